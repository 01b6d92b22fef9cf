#!/usr/bin/env bash
# Benchmark create + confirm of sales orders through the gateway on PostgreSQL + RabbitMQ (bench/orders.py).
# Usage: bench/orders.sh [--clients 8] [--duration 15] [--port-base 27600] [--hop-samples 40]
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/orders.py "$@"
