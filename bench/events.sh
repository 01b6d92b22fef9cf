#!/usr/bin/env bash
# Benchmark the event backbone (bench/events.py): publish-to-handled latency and events/s through
# outbox -> relay -> RabbitMQ -> consumer -> handler, next to the bare kombu floor.
# Needs the local PostgreSQL and RabbitMQ. Usage: bench/events.sh [--latency-n 300] [--throughput-n 3000]
set -euo pipefail
cd "$(dirname "$0")/.."
export ERP_POSTGRES_URL=${ERP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
export BROKER_URL=${BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}
export ERP_DATA_DIR=${ERP_DATA_DIR:-$PWD/.run/bench}
export DJANGO_DEBUG=1 LOG_LEVEL=${LOG_LEVEL:-WARNING}
exec .venv/bin/python bench/events.py "$@"
