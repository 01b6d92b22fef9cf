#!/usr/bin/env bash
# Benchmark the gateway against the service direct and against nginx (see bench/gateway_bench.py).
# Installs wrk and nginx with apt-get when missing and allowed; otherwise falls back to a Python
# load generator (and skips nginx). Loopback only; everything started is stopped at the end.
# Usage: bench/gateway.sh [--duration 8] [--rounds 3] [--connections 32] [--skip-trivial]
#        [--compare-workers service|constant|both]   (defaults: about 4.5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null || ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing wrk and nginx with apt-get..."
    (apt-get update -qq && apt-get install -y -qq wrk nginx >/dev/null) || echo "apt-get failed: using the fallbacks"
  else
    echo "wrk/nginx missing and apt-get not usable: using the Python load generator"
  fi
fi

exec .venv/bin/python bench/gateway_bench.py "$@"
