#!/usr/bin/env bash
# Benchmark receipt -> stock visible (bench/receipts.py): p50/p95 from a purchase receipt's commit to its
# movement in inventory's ledger, through relay_outbox, RabbitMQ and consume_events as separate processes.
# Needs the local PostgreSQL and RabbitMQ. Usage: bench/receipts.sh [--receipts 300] [--orders 3]
set -euo pipefail
cd "$(dirname "$0")/.."
export ERP_POSTGRES_URL=${ERP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
export BROKER_URL=${BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
export ERP_DATA_DIR=${ERP_DATA_DIR:-$PWD/.run/bench}
export LOG_LEVEL=${LOG_LEVEL:-WARNING}  # DEBUG off, as deployed: the scripts take the local run's settings
exec .venv/bin/python bench/receipts.py "$@"
