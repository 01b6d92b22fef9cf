#!/usr/bin/env bash
# Create .venv and install the pinned requirements and `common` once; again only when they change.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements/base.txt -nt "$stamp" ] || [ requirements/dev.txt -nt "$stamp" ] || [ common/pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements/dev.txt -e ./common
  touch "$stamp"
fi
