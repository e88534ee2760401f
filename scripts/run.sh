#!/usr/bin/env bash
# The main command: installs what is missing, starts Redis and PostgreSQL on loopback (data in
# .data/, kept between runs), builds in release mode, applies migrations and checks the worker and
# the API against both servers. Safe to run again; `scripts/run.sh stop` stops what it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

SERVICES_DIR="$REPO_ROOT/.data/services"
if [[ "${1:-}" == "stop" ]]; then
  exec bash "$REPO_ROOT/scripts/services.sh" stop --dir "$SERVICES_DIR"
fi

ensure_system_packages
bash "$REPO_ROOT/scripts/services.sh" start --dir "$SERVICES_DIR"
# The local servers win over a .env that points elsewhere, unless KEEP_ENV=1.
if [[ "${KEEP_ENV:-0}" != "1" ]]; then
  # shellcheck disable=SC1091
  source "$SERVICES_DIR/env"
fi

log "building (release)"
swift build -c release --product worker 2>&1 | grep -E "warning:|error:|Compiling|Build" | tail -3
swift build -c release --product api 2>&1 | grep -E "warning:|error:|Build" | tail -1
BIN="$(swift build -c release --show-bin-path)"

log "migrating"
"$BIN/worker" migrate
log "worker health check (native mode, --burst: drains the queue and exits)"
"$BIN/worker" run --burst
log "api check (configuration, Redis, PostgreSQL; start the server with: $BIN/api run)"
"$BIN/api" check

cat <<TEXT

Everything above ran against the local servers:
  Redis       $REDIS_URL
  PostgreSQL  ${DB_URL%%:*}://…@${DB_URL##*@}
Logs:         $SERVICES_DIR/redis.log, $(cat "$SERVICES_DIR/pg.datadir")/server.log
Stop them:    bash scripts/run.sh stop
TEXT
