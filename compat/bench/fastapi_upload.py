"""A minimal FastAPI twin of `POST /resumes/upload`, for `bench api` only.

Same work per request as the Swift API: parse the multipart form (python-multipart), validate the
five fields, detect the type by magic bytes, look the job post up (remembered for 30 s, as the
Swift API does), SHA-256 the file, write it
atomically (temporary file + fsync + rename, off the event loop), insert the PENDING row (asyncpg)
and enqueue the native job (redis-py, one MULTI/EXEC: HSET job:{id} + RPUSH). Answers 202 with the
same JSON. Configuration from REDIS_URL, DB_URL and DATA_DIR.
"""

import asyncio
import datetime
import hashlib
import json
import os
import re
import time
import uuid

import asyncpg
import redis.asyncio as aioredis
from fastapi import FastAPI, File, Form, UploadFile
from fastapi.responses import JSONResponse

MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
DATA_DIR = os.environ.get("DATA_DIR", "./.data/files")
FUNCTION = "app.workers.async_resume_processor.process_resume_async"
EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
LEVELS = {"JUNIOR", "MID", "SENIOR", "LEAD"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain; charset=utf-8",
}

app = FastAPI()
state = {}


@app.on_event("startup")
async def startup():
    url = os.environ["DB_URL"].replace("postgresql+asyncpg://", "postgresql://")
    state["pg"] = await asyncpg.create_pool(url, min_size=2, max_size=8)
    state["redis"] = aioredis.from_url(os.environ["REDIS_URL"])


def detect(prefix: bytes):
    if prefix.startswith(b"%PDF-"):
        return "pdf"
    if prefix.startswith(b"PK\x03\x04"):
        return "docx" if (b"word/" in prefix or b"[Content_Types].xml" in prefix) else None
    if not prefix or b"\x00" in prefix:
        return None
    try:
        text = prefix.decode("utf-8")
    except UnicodeDecodeError:
        return None
    controls = sum(1 for c in text if ord(c) < 0x20 and c not in "\n\r\t\x0c")
    return "txt" if controls * 100 <= max(1, len(text)) else None


def write_atomically(path: str, data: bytes):
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, ".tmp-" + uuid.uuid4().hex)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temporary, path)
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def error(status, code, message, fields=None):
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status)


@app.post("/resumes/upload", status_code=202)
async def upload(
    file: UploadFile = File(...),
    candidate_name: str = Form(...),
    candidate_email: str = Form(...),
    job_post_id: str = Form(...),
    seniority_level: str = Form(...),
):
    data = await file.read()
    if len(data) > MAX_UPLOAD_BYTES:
        return error(413, "payload_too_large", "file too large")
    fields = {}
    name, email, level = candidate_name.strip(), candidate_email.strip(), seniority_level.strip().upper()
    if not name or len(name) > 200:
        fields["candidate_name"] = "empty or too long"
    if not EMAIL.match(email):
        fields["candidate_email"] = "not a valid e-mail address"
    try:
        post_id = uuid.UUID(job_post_id.strip())
    except ValueError:
        fields["job_post_id"] = "not a valid UUID"
    if level not in LEVELS:
        fields["seniority_level"] = "unknown"
    if not data:
        fields["file"] = "empty"
    if fields:
        return error(422, "validation_failed", "the request has invalid fields", fields)
    kind = detect(data[:8192])
    if kind is None:
        return error(415, "unsupported_media_type", "not a PDF, DOCX or text file")
    pg = state["pg"]
    # Like the Swift API: a post seen in the last 30 s is not looked up again (the foreign key
    # still refuses one deleted meanwhile).
    known = state.setdefault("known_posts", {})
    if known.get(post_id, 0) < time.monotonic():
        if await pg.fetchval("SELECT 1 FROM job_posts WHERE id = $1", post_id) is None:
            return error(404, "not_found", "job post does not exist")
        known[post_id] = time.monotonic() + 30

    application_id = uuid.uuid4()
    now = datetime.datetime.now(datetime.timezone.utc)
    key = f"resumes/{now:%Y/%m/%d}/{application_id}.{kind}"
    digest = hashlib.sha256(data).hexdigest()
    await asyncio.to_thread(write_atomically, os.path.join(DATA_DIR, key), data)
    await pg.execute(
        """INSERT INTO applications (id, job_post_id, candidate_name, email, seniority_level, status, original_filename,
               content_type, file_size, file_sha256, storage_key, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $7, $8, $9, $10, $11, $11)""",
        application_id, post_id, name, email, level, os.path.basename(file.filename or "") or None,
        CONTENT_TYPES[kind], len(data), digest, key, now,
    )
    job_id = str(application_id)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    async with state["redis"].pipeline(transaction=True) as pipe:
        pipe.hset(f"job:{job_id}", mapping={
            "id": job_id, "function": FUNCTION, "args": json.dumps([job_id, str(post_id)]), "kwargs": "{}",
            "status": "queued", "attempts": "0", "max_attempts": "3", "created_at": stamp, "enqueued_at": stamp,
        })
        pipe.rpush("resume_processing_queue", job_id)
        await pipe.execute()
    return JSONResponse({
        "application_id": job_id, "job_id": job_id, "status": "PENDING",
        "message": "Résumé received; processing has been queued.",
    }, status_code=202)
