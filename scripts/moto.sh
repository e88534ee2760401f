#!/usr/bin/env bash
# Starts and stops the moto servers the AWS tests talk to (S3 and a scripted Textract), on loopback.
#
#   scripts/moto.sh start [--dir DIR]   start (or reuse) both servers, write DIR/env
#   scripts/moto.sh stop  [--dir DIR]   stop the servers started in DIR, by pid
#   scripts/moto.sh env   [--dir DIR]   print the TEST_MOTO_* exports
#
# Two servers, each compat/aws/moto_textract.py (moto_server with Textract start/poll/paginate):
#   TEST_MOTO_URL       no signature checks (moto's default);
#   TEST_MOTO_AUTH_URL  signature checks on (compat/aws/moto_auth_setup.py), with the accepted
#                       TEST_MOTO_AUTH_ACCESS_KEY_ID / TEST_MOTO_AUTH_SECRET_ACCESS_KEY.
# The virtualenv compat/.venv-moto is made from compat/requirements-moto.txt on first use (pip).
# DIR defaults to .data/moto in the repository (git-ignored).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command="${1:-env}"
shift || true
DIR="$REPO_ROOT/.data/moto"
while (($#)); do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
VENV="$REPO_ROOT/compat/.venv-moto"
REQUIREMENTS="$REPO_ROOT/compat/requirements-moto.txt"

ensure_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "creating $VENV from $(basename "$REQUIREMENTS")"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS"
    echo "$want" >"$stamp"
  fi
}

# start_server NAME: starts compat/aws/moto_textract.py on a free port unless DIR/NAME.pid is alive;
# sets PORT to its port.
start_server() {
  local name="$1"
  if pidfile_alive "$DIR/$name.pid" && [[ -f "$DIR/$name.port" ]]; then
    PORT="$(cat "$DIR/$name.port")"
    log "$name already running (pid $(cat "$DIR/$name.pid"), port $PORT)"
    return 1
  fi
  PORT="$(free_port)"
  nohup "$VENV/bin/python" "$REPO_ROOT/compat/aws/moto_textract.py" -H 127.0.0.1 -p "$PORT" \
    >"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
  echo "$PORT" >"$DIR/$name.port"
  wait_for "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$PORT/moto-api/\", timeout=2)'" 60 \
    || die "$name did not start; see $DIR/$name.log"
  log "$name started on 127.0.0.1:$PORT (pid $(cat "$DIR/$name.pid"))"
}

start_all() {
  ensure_venv
  start_server moto || true
  local url="http://127.0.0.1:$PORT"
  if start_server moto-auth; then
    "$VENV/bin/python" "$REPO_ROOT/compat/aws/moto_auth_setup.py" "http://127.0.0.1:$PORT" >"$DIR/moto-auth.keys" \
      || die "could not turn on signature checks; see $DIR/moto-auth.log"
  fi
  local auth_url="http://127.0.0.1:$PORT" key_id secret
  read -r key_id secret <"$DIR/moto-auth.keys"
  cat >"$DIR/env" <<ENV
export TEST_MOTO_URL=$url
export TEST_MOTO_AUTH_URL=$auth_url
export TEST_MOTO_AUTH_ACCESS_KEY_ID=$key_id
export TEST_MOTO_AUTH_SECRET_ACCESS_KEY=$secret
ENV
}

stop_server() {
  local name="$1" pid
  if pidfile_alive "$DIR/$name.pid"; then
    pid="$(cat "$DIR/$name.pid")"
    kill "$pid"
    wait_for "! kill -0 $pid" 20 || kill -9 "$pid" 2>/dev/null || true
    log "$name stopped (pid $pid)"
  fi
  rm -f "$DIR/$name.pid"
}

case "$command" in
  start) start_all ;;
  stop)
    stop_server moto
    stop_server moto-auth
    ;;
  env) cat "$DIR/env" ;;
  *) die "usage: moto.sh start|stop|env [--dir DIR]" ;;
esac
