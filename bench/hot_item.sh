#!/usr/bin/env bash
# The hot-item limit (bench/hot_item.py): issue events for one item vs the same number over many items, handled
# by 1, 2 and 4 competing consume_events processes of inventory_svc; issues/s, CPU per issue, lock waits.
# Needs the local PostgreSQL and RabbitMQ.
# Usage: bench/hot_item.sh [--events 2000] [--rounds 1] [--batch-size N] [--json FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
export ERP_POSTGRES_URL=${ERP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
export BROKER_URL=${BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
export ERP_DATA_DIR=${ERP_DATA_DIR:-$PWD/.run/bench}
export DJANGO_DEBUG=1 LOG_LEVEL=${LOG_LEVEL:-WARNING}
exec .venv/bin/python bench/hot_item.py "$@"
