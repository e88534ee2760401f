#!/usr/bin/env bash
# The Python interop suite: one virtualenv per pinned RQ version (created on first use from
# requirements-rq*.txt), each running the same pytest cases against the Swift executables.
# Needs TEST_REDIS_URL and SWIFT_WORKER_BIN (scripts/test.sh sets both).
set -euo pipefail
cd "$(dirname "$0")"
: "${TEST_REDIS_URL:?set by scripts/test.sh}" "${SWIFT_WORKER_BIN:?set by scripts/test.sh}"
status=0
for requirements in requirements-rq212.txt requirements-rq300.txt; do
  name="${requirements#requirements-}"
  name="${name%.txt}"
  venv=".venv-$name"
  stamp="$venv/.requirements.sha256"
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "==> creating $venv from $requirements" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
  fi
  echo "==> compat suite with $("$venv/bin/python" -c 'import rq; print("rq", rq.__version__)')" >&2
  PATH="$PWD/$venv/bin:$PATH" PYTHONHASHSEED=0 PYTHONPATH="$PWD:$PWD/tests" \
    "$venv/bin/python" -m pytest tests -q -p no:cacheprovider "$@" || status=$?
done
exit $status
