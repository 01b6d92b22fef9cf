#!/usr/bin/env bash
# The test command: every suite, each service on its own (their `config` packages
# must not share a path), against the local PostgreSQL and RabbitMQ, then
# makemigrations --check of every service and ruff.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh || exit 1
# The browser tests (tests/test_back_office.py) drive Debian's Chromium, never a downloaded one.
scripts/install_chromium.sh || exit 1

PG_URL=${ERP_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
AMQP_URL=${ERP_TEST_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
.venv/bin/python scripts/check_infra.py "$PG_URL" "$AMQP_URL" || exit 1

export DJANGO_DEBUG=1
export ERP_POSTGRES_URL="$PG_URL" ERP_DB_PREFIX=${ERP_TEST_DB_PREFIX:-erp_} BROKER_URL="$AMQP_URL"
export ERP_DATA_DIR="$PWD/.run/test"
export ERP_REPO_ROOT="$PWD"
mkdir -p "$ERP_DATA_DIR/junit" "$ERP_DATA_DIR/tmp"
rm -f "$ERP_DATA_DIR"/junit/*.xml

SUITES=${SUITES:-"common auth_svc contact_svc inventory_svc sales_svc purchase_svc gateway tests"}
failed=()
for suite in $SUITES; do
  [ -d "$suite" ] || continue
  echo "=== $suite"
  # Temporary dirs of this checkout's own: pytest's shared /tmp/pytest-of-<user> keeps only the three
  # newest sessions, so another checkout's run could delete a local run's data dir under it.
  (cd "$suite" && ../.venv/bin/pytest -q --basetemp="$ERP_DATA_DIR/tmp/$suite" \
    --junitxml="$ERP_DATA_DIR/junit/$suite.xml" ${PYTEST_ARGS:-}) || failed+=("$suite")
done

echo "=== migrations"
# A model change without its migration fails here, in every service (and common's apps).
for suite in $SUITES; do
  case $suite in
    tests) continue ;;
    common) settings=tests.project.settings ;;
    *) settings=config.settings ;;
  esac
  [ -d "$suite" ] || continue
  if ! out=$(cd "$suite" && DJANGO_SETTINGS_MODULE=$settings ../.venv/bin/python -m django makemigrations --check --dry-run 2>&1); then
    echo "$out"
    echo "$suite: models changed without a migration (run makemigrations)"
    failed+=("$suite-migrations")
  fi
done

echo "=== ruff"
.venv/bin/ruff check . || failed+=("ruff")
.venv/bin/ruff format --check . >/dev/null || { echo "ruff format: files need formatting (run make fmt)"; failed+=("ruff-format"); }

.venv/bin/python scripts/junit_summary.py "$ERP_DATA_DIR"/junit/*.xml
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
