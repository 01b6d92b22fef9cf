#!/usr/bin/env bash
# Benchmark replenishment (bench/replenishment.py): low-stock event -> replenishment draft line, p50/p95 and CPU per
# operation, through inventory's relay, RabbitMQ and purchase's consume_events as processes.
# Needs the local PostgreSQL and RabbitMQ. Usage: bench/replenishment.sh [--operations 200] [--vendors 4]
set -euo pipefail
cd "$(dirname "$0")/.."
export ERP_POSTGRES_URL=${ERP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
export BROKER_URL=${BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
export ERP_DATA_DIR=${ERP_DATA_DIR:-$PWD/.run/bench}
export DJANGO_DEBUG=1 LOG_LEVEL=${LOG_LEVEL:-WARNING}
exec .venv/bin/python bench/replenishment.py "$@"
