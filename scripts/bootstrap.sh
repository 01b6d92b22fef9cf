#!/usr/bin/env bash
# Create .venv and install the pinned requirements, `common` and the test kit (common/testkit: the
# pytest plugin, never in an image) once; again only when they change. pip installs only uv
# (requirements/bootstrap.txt), which installs the rest: a fresh clone's first `make test` waits
# for this.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements/base.txt -nt "$stamp" ] || [ requirements/dev.txt -nt "$stamp" ] || [ common/pyproject.toml -nt "$stamp" ] \
  || [ common/testkit/pyproject.toml -nt "$stamp" ] || [ requirements/bootstrap.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet -r requirements/bootstrap.txt
  .venv/bin/uv pip install --quiet --python .venv/bin/python -r requirements/dev.txt -e ./common -e ./common/testkit
  touch "$stamp"
fi
