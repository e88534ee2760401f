#!/usr/bin/env bash
# The chaos suite (README, "Chaos suite"): installs what is missing, builds the executables in
# release mode (or uses --bin-dir), starts a private Redis (AOF, appendfsync everysec) and
# PostgreSQL on free loopback ports, runs compat/chaos/chaos.py — API and workers under injected
# faults, one figures line per scenario, failing when an accepted job is lost — and stops the
# servers it started, by pid. Scenario 8 runs its own Sentinel group (scripts/topology.sh start
# --only-sentinel in SERVICES_DIR/topology-8) beside the private PostgreSQL.
#
#   scripts/chaos.sh [--short] [--compare] [--bin-dir DIR] [SCENARIO...]
#
# --short is the CI version (scripts/test.sh runs it); --compare adds the Python RQ side-by-side
# of scenarios 1, 5 and 6. Scenarios default to 1–8. CHAOS_KEEP_LOGS=1 keeps the logs of a passing run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

BIN_DIR=""
ARGS=()
while (($#)); do
  case "$1" in
    --bin-dir) BIN_DIR="$2"; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

ensure_system_packages
if [[ -z "$BIN_DIR" ]]; then
  log "building (release)"
  for product in api worker bench; do
    swift build -c release --product "$product" 2>&1 | grep -E "warning: .*Sources/|error:" || true
  done
  BIN_DIR="$(swift build -c release --show-bin-path)"
fi
for executable in api worker bench; do
  [[ -x "$BIN_DIR/$executable" ]] || die "$BIN_DIR/$executable is missing (build failed?)"
done
VENV="$(bash "$REPO_ROOT/compat/venv.sh" rq212)"

SERVICES_DIR="$(mktemp -d /tmp/resume-processor-chaos.XXXXXX)"
chmod 755 "$SERVICES_DIR"
LOGS="$SERVICES_DIR/logs"
mkdir -p "$LOGS"
cleanup() {
  local status=$?
  # chaos.py stops scenario 8's topology itself; this covers a chaos.py that was killed.
  if [[ -d "$SERVICES_DIR/topology-8" ]]; then
    bash "$REPO_ROOT/scripts/topology.sh" stop --dir "$SERVICES_DIR/topology-8" 2>/dev/null || true
  fi
  bash "$REPO_ROOT/scripts/services.sh" stop --dir "$SERVICES_DIR" || true
  if ((status == 0)) && [[ -z "${CHAOS_KEEP_LOGS:-}" ]]; then
    rm -rf "$SERVICES_DIR" "$(cat "$SERVICES_DIR/pg.datadir" 2>/dev/null | xargs -r dirname)" 2>/dev/null || true
  else
    echo "chaos logs kept in $LOGS" >&2
  fi
  exit $status
}
trap cleanup EXIT INT TERM

# Not --ephemeral: Redis keeps an AOF with appendfsync everysec, PostgreSQL fsyncs.
bash "$REPO_ROOT/scripts/services.sh" start --dir "$SERVICES_DIR"
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"
export REDIS_URL DB_URL
log "migrating the chaos database"
"$BIN_DIR/worker" migrate >/dev/null

PYTHONPATH="$REPO_ROOT/compat" "$VENV/bin/python" "$REPO_ROOT/compat/chaos/chaos.py" \
  --bin-dir "$BIN_DIR" --services-dir "$SERVICES_DIR" --logs "$LOGS" "${ARGS[@]}"
