"""Choose the services' gunicorn setting by measurement: contact_svc alone under each candidate.

Reuses gateway_bench's machinery (temporary data dir, DJANGO_DEBUG off, seeded contact_svc,
wrk with one token). Each setting serves the same two authenticated GETs for a few
interleaved rounds; medians of req/s and p50/p99, plus the resident memory of the server.
Usage: .venv/bin/python bench/service_workers.py [--duration 6 --rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gateway_bench as gb

SETTINGS = [("gthread", 2, 4), ("gthread", 1, 8), ("gthread", 2, 8), ("sync", 2, 1), ("sync", 4, 1)]


def rss_mib(pgid: int) -> float:
    """Resident memory of a gunicorn master and its workers (they share its process group)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * 4096
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="erp-service-workers-"))
    stack = gb.Stack(tmp)
    try:
        env = gb.base_env(tmp / "data")
        token = gb.mint_token(env)
        env = gb.production_env(env, tmp / "data")
        port = gb.free_port()
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        memory: dict[str, float] = {}
        for round_number in range(1, args.rounds + 1):
            for worker_class, workers, threads in SETTINGS:
                label = gb.setting_label((worker_class, workers, threads))
                setting_env = {
                    **env,
                    "GUNICORN_WORKER_CLASS": worker_class,
                    "GUNICORN_WORKERS": str(workers),
                    "GUNICORN_THREADS": str(threads),
                }
                customer_id = gb.start_contact(stack, setting_env, port, token)
                process = stack.processes[-1]
                try:
                    for kind, path in (("list", gb.LIST_PATH), ("one", f"/customers/{customer_id}")):
                        result = gb.measure(f"http://127.0.0.1:{port}{path}", token, args)
                        results.setdefault((label, kind), []).append(result)
                        print(gb.line(f"{label} {kind} #{round_number}", result), flush=True)
                    memory[label] = rss_mib(process.pid)
                finally:
                    stack.stop(process)
        print("\n== medians")
        for (label, kind), runs in results.items():
            rps = statistics.median(run["rps"] for run in runs)
            p99 = statistics.median(run["p99"] for run in runs)
            print(f"  {label:<18} {kind:<5} {rps:8.0f} req/s   p99 {p99:7.1f} ms   RSS {memory[label]:.0f} MiB")
        return 0
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
