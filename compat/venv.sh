#!/usr/bin/env bash
# Creates (or reuses) compat/.venv-NAME from compat/requirements-NAME.txt and prints its path.
# Usage: compat/venv.sh rq212|rq300
set -euo pipefail
cd "$(dirname "$0")"
name="$1"
requirements="requirements-$name.txt"
venv=".venv-$name"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "==> creating $venv from $requirements" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" >&2
  echo "$want" >"$stamp"
fi
echo "$PWD/$venv"
