#!/usr/bin/env bash
# Benchmark inventory's issue handling (bench/inventory_events.py): sales.order.confirmed events
# handled per second by 1 and by 2 consume_events processes on one queue, ledger checked after each run.
# Needs the local PostgreSQL and RabbitMQ. Usage: bench/inventory_events.sh [--events 2000] [--items 50] [--rounds 2]
set -euo pipefail
cd "$(dirname "$0")/.."
export ERP_POSTGRES_URL=${ERP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
export BROKER_URL=${BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
export ERP_DATA_DIR=${ERP_DATA_DIR:-$PWD/.run/bench}
export DJANGO_DEBUG=1 LOG_LEVEL=${LOG_LEVEL:-WARNING}
exec .venv/bin/python bench/inventory_events.py "$@"
