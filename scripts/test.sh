#!/usr/bin/env bash
# The test command: every suite, each service on its own (their `config` packages
# must not share a path), against the local PostgreSQL and RabbitMQ, each followed by
# makemigrations --check of its service, then ruff.
#
# SERVICE=sales (`make test SERVICE=sales`; several: SERVICE="sales purchase") runs only that
# suite and its migrations check: a service by the local run's name (auth, contact, inventory,
# sales, purchase, gateway), common, or platform (the tests/ folder). SUITES="sales_svc gateway"
# names suites by folder instead, ruff included.
# TEST_JOBS suites run at once (default 5), the longest first, each taking the next free lane.
# The platform tests run as two suites side by side (tests/conftest.py, --flavours):
# tests:embedded, the embedded local run's tests (that platform uses no PostgreSQL connection),
# and tests:postgres, every other: those that start no platform (they run while the first
# flavour starts), then the flavours on PostgreSQL and RabbitMQ (the upgraded install, the
# replicated one); common's as two: common:events
# (tests/events, its processes, brokers and faults) and common:rest, each on a test database of
# its own. Most of those suites' time is waiting (on the local runs' processes, on RabbitMQ, on
# the timeouts they provoke), so five lanes keep the two cores busy: with four, one lane ran auth_svc,
# inventory_svc and common:rest one after the other past the platform suites (docs/performance.md,
# "The test command").
# Each suite's output is shown whole once it ends, and a table of every suite's wall and CPU
# time closes the run. A suite named by its folder alone (tests, common) runs all of it.
# A suite named <folder>:sqlite runs that folder's tests marked ``sqlite`` on a SQLite file
# instead (DATABASE_URL), the database of the embedded local run: the purchase receipts and
# the stock they move behave the same there.
set -uo pipefail
set -m # each suite in a process group of its own, to be interrupted whole
cd "$(dirname "$0")/.."

SUITES=${SUITES:-"tests:postgres tests:embedded common:events auth_svc inventory_svc common:rest gateway sales_svc purchase_svc contact_svc purchase_svc:sqlite inventory_svc:sqlite"}
if [ -n "${SERVICE:-}" ]; then
  SUITES=
  for name in $SERVICE; do
    case $name in
      auth | contact | sales) SUITES+=" ${name}_svc" ;;
      inventory | purchase) SUITES+=" ${name}_svc ${name}_svc:sqlite" ;;
      gateway) SUITES+=" $name" ;;
      common) SUITES+=" common:events common:rest" ;;
      platform | tests) SUITES+=" tests:postgres tests:embedded" ;;
      *)
        echo "SERVICE=<auth, contact, inventory, sales, purchase, gateway, common, platform>, got SERVICE='$name'" >&2
        exit 2
        ;;
    esac
  done
fi
TEST_JOBS=${TEST_JOBS:-5}

scripts/bootstrap.sh || exit 1
# The browser tests (tests/test_back_office.py) drive Debian's Chromium, never a downloaded one.
if [[ " $SUITES " == *" tests"[:\ ]* ]]; then
  scripts/install_chromium.sh || exit 1
fi

PG_URL=${ERP_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
AMQP_URL=${ERP_TEST_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
.venv/bin/python scripts/check_infra.py "$PG_URL" "$AMQP_URL" || exit 1

export DJANGO_DEBUG=1
export ERP_POSTGRES_URL="$PG_URL" ERP_DB_PREFIX=${ERP_TEST_DB_PREFIX:-erp_} BROKER_URL="$AMQP_URL"
export ERP_DATA_DIR="$PWD/.run/test"
export ERP_REPO_ROOT="$PWD"
LOGS="$ERP_DATA_DIR/logs"
mkdir -p "$ERP_DATA_DIR/junit" "$ERP_DATA_DIR/tmp" "$LOGS"
rm -f "$ERP_DATA_DIR"/junit/*.xml "$LOGS"/*

# One suite: its tests, then its migrations check. Writes <suite>.log and <suite>.status:
# "<tests' exit> <migrations' exit> <wall s> <user s> <system s>", the CPU time of every
# process the suite started (the local runs' too).
run_suite() {
  local suite=$1 folder=${1%%:*} started=$EPOCHREALTIME rc migrations=0 settings out
  local selection=()
  case $suite in
    *:sqlite)
      selection=(-m sqlite)
      export DATABASE_URL="sqlite:///$ERP_DATA_DIR/$folder.sqlite3"
      ;;
    tests:embedded) selection=(--flavours embedded) ;;
    tests:postgres) selection=(--flavours none,postgres,replicated) ;;
    # on a test database of its own (test_<prefix>events_commontest), beside common:rest's
    common:events) selection=(tests/events) && export ERP_DB_PREFIX="${ERP_DB_PREFIX}events_" ;;
    common:rest) selection=(--ignore=tests/events) ;;
  esac
  # Temporary dirs of this checkout's own: pytest's shared /tmp/pytest-of-<user> keeps only the three
  # newest sessions, so another checkout's run could delete a local run's data dir under it. No ':'
  # in their path: a test that puts one on PYTHONPATH (test_dockerfile.py) would see it split there.
  (cd "$folder" && exec ../.venv/bin/pytest -q "${selection[@]}" --basetemp="$ERP_DATA_DIR/tmp/${suite/:/-}" \
    --junitxml="$ERP_DATA_DIR/junit/$suite.xml" ${PYTEST_ARGS:-}) >"$LOGS/$suite.log" 2>&1
  rc=$?
  # A model change without its migration fails here, in every service (and common's apps).
  case $suite in
    tests | tests:* | *:sqlite | common:events) settings= ;;
    common | common:*) settings=tests.project.settings ;;
    *) settings=config.settings ;;
  esac
  if [ -n "$settings" ] && ! out=$(cd "$folder" && DJANGO_SETTINGS_MODULE=$settings \
    ../.venv/bin/python -m django makemigrations --check --dry-run 2>&1); then
    printf '%s\n%s: models changed without a migration (run makemigrations)\n' "$out" "$suite" >>"$LOGS/$suite.log"
    migrations=1
  fi
  # `times`' second line: this suite's children's user and system time ("0m12.345s 0m1.234s"); in
  # this shell, not in a $(...) one, whose children are none.
  times >"$LOGS/$suite.times"
  .venv/bin/python - "$rc" "$migrations" "$started" "$EPOCHREALTIME" "$(tail -1 "$LOGS/$suite.times")" \
    >"$LOGS/$suite.status" <<'EOF'
import re, sys
rc, migrations, started, ended, cpu = sys.argv[1:]
user, system = (int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", cpu))
print(rc, migrations, round(float(ended) - float(started)), round(user), round(system))
EOF
}

failed=()
declare -A running=() # pid -> suite

# Wait for one suite to end; show its output and record its failures.
reap() {
  local pid rc migrations wall user system
  wait -n -p pid
  local suite=${running[$pid]}
  unset "running[$pid]"
  if [ ! -f "$LOGS/$suite.status" ]; then # stopped before it could say how it went
    echo "=== $suite (stopped)"
    cat "$LOGS/$suite.log"
    failed+=("$suite")
    return
  fi
  read -r rc migrations wall user system <"$LOGS/$suite.status"
  echo "=== $suite (${wall} s; CPU ${user} s user, ${system} s system)"
  cat "$LOGS/$suite.log"
  [ "$rc" = 0 ] || failed+=("$suite")
  [ "$migrations" = 0 ] || failed+=("$suite-migrations")
}

# Ctrl-C or a stop: interrupt every running suite (pytest tears its local runs down), then stop.
# (A shell started in the background ignores SIGINT, and so do its suites: stop those with SIGTERM.)
interrupt() {
  for pid in "${!running[@]}"; do kill -INT -- "-$pid" 2>/dev/null; done
  wait
  exit 130
}
trap interrupt INT TERM

for suite in $SUITES; do
  if [ ! -d "${suite%%:*}" ]; then
    echo "no suite $suite" >&2
    failed+=("$suite")
    continue
  fi
  while [ ${#running[@]} -ge "$TEST_JOBS" ]; do reap; done
  run_suite "$suite" &
  running[$!]=$suite
done
while [ ${#running[@]} -gt 0 ]; do reap; done

if [ -z "${SERVICE:-}" ]; then
  echo "=== ruff"
  .venv/bin/ruff check . || failed+=("ruff")
  .venv/bin/ruff format --check . >/dev/null || { echo "ruff format: files need formatting (run make fmt)"; failed+=("ruff-format"); }
fi

echo "=== times (s)"
printf '%-20s %6s %6s %6s\n' suite wall user system
for suite in $SUITES; do
  [ -f "$LOGS/$suite.status" ] || continue
  read -r _ _ wall user system <"$LOGS/$suite.status"
  printf '%-20s %6s %6s %6s\n' "$suite" "$wall" "$user" "$system"
done
printf '%-20s %6s\n' "whole run" "$SECONDS"
.venv/bin/python scripts/junit_summary.py "$ERP_DATA_DIR"/junit/*.xml
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
