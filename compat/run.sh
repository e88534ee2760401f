#!/usr/bin/env bash
# The Python interop suite: one virtualenv per pinned RQ version (created on first use from
# requirements-rq*.txt by venv.sh), each running the same pytest cases against the Swift executables.
# Needs TEST_REDIS_URL and SWIFT_WORKER_BIN (scripts/test.sh sets both).
set -euo pipefail
cd "$(dirname "$0")"
: "${TEST_REDIS_URL:?set by scripts/test.sh}" "${SWIFT_WORKER_BIN:?set by scripts/test.sh}"
status=0
for name in rq212 rq300; do
  venv="$(bash venv.sh "$name")"
  echo "==> compat suite with $("$venv/bin/python" -c 'import rq; print("rq", rq.__version__)')" >&2
  PATH="$venv/bin:$PATH" PYTHONHASHSEED=0 PYTHONPATH="$PWD:$PWD/tests" \
    "$venv/bin/python" -m pytest tests -q -p no:cacheprovider "$@" || status=$?
done
exit $status
