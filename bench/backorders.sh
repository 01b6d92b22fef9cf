#!/usr/bin/env bash
# Benchmark the backorder paths (bench/backorders.py): confirm -> stock visible, then receipt -> backorder filled,
# p50/p95 and CPU per operation, each through its relay, RabbitMQ and inventory's consume_events as processes.
# Needs the local PostgreSQL and RabbitMQ. Usage: bench/backorders.sh [--operations 200] [--items 4]
set -euo pipefail
cd "$(dirname "$0")/.."
export ERP_POSTGRES_URL=${ERP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
export BROKER_URL=${BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
export ERP_DATA_DIR=${ERP_DATA_DIR:-$PWD/.run/bench}
export LOG_LEVEL=${LOG_LEVEL:-WARNING}  # DEBUG off, as deployed: the scripts take the local run's settings
.venv/bin/python bench/backorders.py --path confirm "$@"
exec .venv/bin/python bench/backorders.py --path receipt "$@"
