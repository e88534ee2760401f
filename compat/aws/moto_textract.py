#!/usr/bin/env python3
"""moto_server with a scripted Textract, for start/poll/paginate tests (loopback only).

Adapted from the research note's §3.4 wrapper. S3, IAM and moto's signature-check mode are moto's
own; only StartDocumentTextDetection, GetDocumentTextDetection and DetectDocumentText are replaced:
  * a job reports IN_PROGRESS for its first MOTO_TEXTRACT_POLLS polls (default 2), then SUCCEEDED;
  * Blocks come from the S3 object's bytes read as UTF-8: one PAGE per form feed, one LINE per
    non-empty line, WORD blocks per token, CHILD relationships;
  * the object's key decides special behaviour:
      "fail"        the job ends FAILED with a StatusMessage;
      "stuck"       the job stays IN_PROGRESS forever (deadline tests);
      "throttle"    the first poll answers 400 ProvisionedThroughputExceededException;
      "unsupported" the start answers 400 UnsupportedDocumentException;
      "shuffle"     blocks come last page first (each page's blocks in order), as a reader must
                    not rely on pages arriving in order;
    a missing object makes the start answer 400 InvalidS3ObjectException, as Textract does;
  * GetDocumentTextDetection honours MaxResults (default 1000) and NextToken;
  * DetectDocumentText (the synchronous call for one PNG/JPEG page) answers the blocks of its
    S3Object at once; "unsupported", "throttle" (every call) and a missing object as above;
  * DocumentMetadata.Pages is an integer (stock moto returns {"Pages": {"Pages": n}}).
It relies on moto internals (TextractResponse method names, s3_backends[account]["aws"]), so moto
stays pinned in compat/requirements-moto.txt.

Usage: python3 moto_textract.py -H 127.0.0.1 -p 5055
"""
import json, os, sys, threading, uuid

from moto.core.exceptions import JsonRESTError
from moto.server import main
from moto.textract.exceptions import InvalidJobIdException, InvalidParameterException, InvalidS3ObjectException
from moto.textract.responses import TextractResponse

POLLS = int(os.environ.get("MOTO_TEXTRACT_POLLS", "2"))
JOBS = {}  # job id -> {"polls", "blocks", "pages", "mode"}
LOCK = threading.Lock()


class ProvisionedThroughputExceededException(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__("ProvisionedThroughputExceededException",
                         "The number of requests exceeded your throughput limit.")


class UnsupportedDocumentException(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__("UnsupportedDocumentException", "The format of the input document isn't supported.")


def object_text(account, bucket, key):
    from moto.s3.models import s3_backends
    return s3_backends[account]["aws"].get_object(bucket, key).value.decode("utf-8", "replace")


def blocks_for(text):
    blocks, pages = [], text.split("\f") or [""]
    for pno, page in enumerate(pages, 1):
        page_block = {"BlockType": "PAGE", "Id": str(uuid.uuid4()), "Page": pno,
                      "Relationships": [{"Type": "CHILD", "Ids": []}]}
        blocks.append(page_block)
        top = 0.05
        for line in (l.strip() for l in page.splitlines()):
            if not line:
                continue
            words = [{"BlockType": "WORD", "Id": str(uuid.uuid4()), "Text": w, "TextType": "PRINTED",
                      "Confidence": 99.0, "Page": pno} for w in line.split()]
            lb = {"BlockType": "LINE", "Id": str(uuid.uuid4()), "Text": " ".join(w["Text"] for w in words),
                  "Confidence": 99.0, "Page": pno,
                  "Geometry": {"BoundingBox": {"Left": 0.1, "Top": top, "Width": 0.8, "Height": 0.02}},
                  "Relationships": [{"Type": "CHILD", "Ids": [w["Id"] for w in words]}]}
            top += 0.03
            page_block["Relationships"][0]["Ids"].append(lb["Id"])
            blocks.append(lb)
            blocks.extend(words)
    return blocks, len(pages)


def start(self):
    params = json.loads(self.body)
    s3obj = (params.get("DocumentLocation") or {}).get("S3Object") or {}
    name = s3obj.get("Name") or ""
    if not s3obj.get("Bucket") or not name:
        raise InvalidParameterException()
    if "unsupported" in name:
        raise UnsupportedDocumentException()
    try:
        text = object_text(self.current_account, s3obj["Bucket"], name)
    except Exception:
        raise InvalidS3ObjectException()
    job_id = str(uuid.uuid4())
    blocks, pages = blocks_for(text)
    mode = next((m for m in ("fail", "stuck", "throttle", "shuffle") if m in name), None)
    if mode == "shuffle":
        blocks.sort(key=lambda block: -block["Page"])
    with LOCK:
        JOBS[job_id] = {"polls": 0, "blocks": blocks, "pages": pages, "mode": mode}
    return json.dumps({"JobId": job_id})


def get(self):
    params = json.loads(self.body)
    with LOCK:
        job = JOBS.get(params.get("JobId"))
        if job is None:
            raise InvalidJobIdException()
        job["polls"] += 1
        polls = job["polls"]
    if job["mode"] == "throttle" and polls == 1:
        raise ProvisionedThroughputExceededException()
    if job["mode"] == "stuck" or polls <= POLLS:
        return json.dumps({"JobStatus": "IN_PROGRESS", "DetectDocumentTextModelVersion": "1.0"})
    if job["mode"] == "fail":
        return json.dumps({"JobStatus": "FAILED", "StatusMessage": "Unable to read the document.",
                           "DetectDocumentTextModelVersion": "1.0"})
    size = min(int(params.get("MaxResults") or 1000), 1000)
    start_at = int(params.get("NextToken") or 0)
    out = {"JobStatus": "SUCCEEDED", "DetectDocumentTextModelVersion": "1.0",
           "DocumentMetadata": {"Pages": job["pages"]}, "Blocks": job["blocks"][start_at:start_at + size]}
    if start_at + size < len(job["blocks"]):
        out["NextToken"] = str(start_at + size)
    return json.dumps(out)


def detect(self):
    params = json.loads(self.body)
    s3obj = (params.get("Document") or {}).get("S3Object") or {}
    name = s3obj.get("Name") or ""
    if not s3obj.get("Bucket") or not name:
        raise InvalidParameterException()
    if "unsupported" in name:
        raise UnsupportedDocumentException()
    if "throttle" in name:
        raise ProvisionedThroughputExceededException()
    try:
        text = object_text(self.current_account, s3obj["Bucket"], name)
    except Exception:
        raise InvalidS3ObjectException()
    blocks, pages = blocks_for(text)
    return json.dumps({"DocumentMetadata": {"Pages": pages}, "Blocks": blocks,
                       "DetectDocumentTextModelVersion": "1.0"})


TextractResponse.detect_document_text = detect
TextractResponse.start_document_text_detection = start
TextractResponse.get_document_text_detection = get

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
