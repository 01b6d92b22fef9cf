#!/usr/bin/env bash
# Create .venv and install the pinned requirements, `common` and the test kit (common/testkit: the
# pytest plugin, never in an image) once; again only when they change. pip installs only uv
# (requirements/bootstrap.txt), which installs the rest: a fresh clone's first `make test` waits
# for this.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
created=
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  created=1
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements/base.txt -nt "$stamp" ] || [ requirements/dev.txt -nt "$stamp" ] || [ common/pyproject.toml -nt "$stamp" ] \
  || [ common/testkit/pyproject.toml -nt "$stamp" ] || [ requirements/bootstrap.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet -r requirements/bootstrap.txt
  .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -r requirements/dev.txt -e ./common -e ./common/testkit
  # uv compiles only what that run installed: a venv filled before keeps none for the packages it left alone.
  if [ -z "$created" ]; then
    .venv/bin/python -m compileall -q "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null || true
  fi
  touch "$stamp"
fi
# Bytecode for the checkout's own modules too (only what changed: a tenth of a second when nothing did).
# With PYTHONDONTWRITEBYTECODE set, as on this project's machines, no process writes it, and each of
# the hundreds a run starts compiled every module it imported again: a Django start took 1.9 s of CPU
# instead of 0.7 (docs/performance.md, "The test command"). uv, unlike pip, compiles only when asked.
# A module that does not compile is left to the tests to report (compileall names it here too); a
# checkout that cannot be written gets none.
if [ -w common ]; then
  .venv/bin/python -m compileall -q common auth_svc contact_svc inventory_svc sales_svc purchase_svc gateway scripts tests bench || true
fi
