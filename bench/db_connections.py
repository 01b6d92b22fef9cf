"""Database connections of the local run at N worker replicas, with and without the web servers' pool.

``make bench-db-connections`` (or ``.venv/bin/python bench/db_connections.py --replicas 1 2``)
starts the local run on the local PostgreSQL and RabbitMQ (databases and queues of its own,
dropped afterwards) with ``ERP_WORKER_REPLICAS=N``, loads it through the gateway with
concurrent reads and writes, and samples ``pg_stat_activity`` per database: the most
connections seen under load, and what is still held some time after the load stops. Each
replica count runs with the psycopg pool of every web server process (``ERP_DB_POOL=1``, what
scripts/gunicorn.conf.py sets; at its default size, the threads, and at 2), and without it
(``ERP_DB_POOL=0``: Django's persistent connection per thread, ``CONN_MAX_AGE=60``), the
platform as it was before.
Figures are reported in deploy/k8s/README.md ("Database connections").
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "scripts")]

from platforms import PG_SERVER, on_postgres_and_rabbitmq  # noqa: E402
from run import SERVICES  # noqa: E402
from test_local_run import _call, _login  # noqa: E402


def connections_by_database(prefix: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
        rows = conn.execute(
            "SELECT datname, COUNT(*) FROM pg_stat_activity WHERE datname LIKE %s GROUP BY datname", [prefix + "%"]
        ).fetchall()
    return {name.removeprefix(prefix): count for name, count in rows}


class Sampler(threading.Thread):
    """Read pg_stat_activity every ``every`` seconds; keep each database's maximum."""

    def __init__(self, prefix: str, every: float = 0.25):
        super().__init__(daemon=True)
        self.prefix, self.every = prefix, every
        self.peak: dict[str, int] = {}
        self.peak_total = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            counts = connections_by_database(self.prefix)
            for name, count in counts.items():
                self.peak[name] = max(self.peak.get(name, 0), count)
            self.peak_total = max(self.peak_total, sum(counts.values()))
            self.stopping.wait(self.every)


def load(gateway: str, seconds: float, clients: int) -> int:
    """Mixed reads and writes through the gateway from ``clients`` threads; return the requests made."""
    token = _login(gateway, "finance@example.com", "FinancePass!2026")
    api = f"{gateway}/api"
    _, items = _call("GET", f"{api}/items?limit=5", None, token)
    _, customers = _call("GET", f"{api}/customers?limit=5", None, token)
    item_ids = [item["id"] for item in items["data"]]
    customer_ids = [customer["id"] for customer in customers["data"]]
    deadline = time.monotonic() + seconds
    done = []

    def client(index: int) -> None:
        rng = random.Random(index)
        count = 0
        while time.monotonic() < deadline:
            choice = rng.random()
            if choice < 0.25:
                _call("GET", f"{api}/items?limit=20", None, token)
            elif choice < 0.45:
                _call("GET", f"{api}/customers?limit=20", None, token)
            elif choice < 0.6:
                _call("GET", f"{api}/sales/orders?limit=20", None, token)
            elif choice < 0.7:
                _call("GET", f"{api}/purchase/orders?limit=20", None, token)
            elif choice < 0.8:
                tag = uuid.uuid4().hex[:10]
                _call("POST", f"{api}/vendors", {"name": f"Bench {tag}", "email": f"{tag}@bench.example"}, token)
            else:
                body = {
                    "customer_id": rng.choice(customer_ids),
                    "items": [{"item_id": rng.choice(item_ids), "quantity": 1}],
                }
                _call("POST", f"{api}/sales/orders", body, token)
            count += 1
        done.append(count)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return sum(done)


# (label, environment) of each database setting of the web servers.
SETTINGS = {
    "pool": ("psycopg pool, max 4 (default)", {"ERP_DB_POOL": "1"}),
    "pool2": ("psycopg pool, max 2", {"ERP_DB_POOL": "1", "ERP_DB_POOL_MAX_SIZE": "2"}),
    "off": ("per thread (CONN_MAX_AGE=60)", {"ERP_DB_POOL": "0"}),
}


def measure(replicas: int, setting: str, seconds: float, clients: int, idle: float) -> dict:
    # On database and event names of its own, deleted afterwards (tests/platforms.py).
    infrastructure = {"ERP_WORKER_REPLICAS": str(replicas), **SETTINGS[setting][1]}
    with tempfile.TemporaryDirectory(prefix="erp-benchconn-") as folder:
        with on_postgres_and_rabbitmq(Path(folder), **infrastructure) as running:
            db_prefix = running["db_prefix"]
            time.sleep(3)  # the demo seeding's events settle
            at_rest = connections_by_database(db_prefix)
            sampler = Sampler(db_prefix)
            sampler.start()
            requests = load(running["gateway"], seconds, clients)
            sampler.stopping.set()
            sampler.join()
            time.sleep(idle)
            after_idle = connections_by_database(db_prefix)
    return {
        "replicas": replicas,
        "setting": setting,
        "requests": requests,
        "at_rest": at_rest,
        "peak": sampler.peak,
        "peak_total": sampler.peak_total,
        "after_idle": after_idle,
    }


def report(results: list[dict], seconds: float, clients: int, idle: float) -> str:
    names = [s.name for s in SERVICES if s.database]
    lines = [
        f"{clients} clients for {seconds:.0f} s through the gateway; connections per database "
        f"(at rest before the load / peak under load / {idle:.0f} s after it):",
        "",
        "| worker replicas | web pool | requests | " + " | ".join(names) + " | total at rest / peak / after |",
        "|---|---|---|" + "---|" * len(names) + "---|",
    ]
    for r in results:
        cells = [f"{r['at_rest'].get(n, 0)} / {r['peak'].get(n, 0)} / {r['after_idle'].get(n, 0)}" for n in names]
        totals = f"{sum(r['at_rest'].values())} / {r['peak_total']} / {sum(r['after_idle'].values())}"
        pool = SETTINGS[r["setting"]][0]
        lines.append(f"| {r['replicas']} | {pool} | {r['requests']} | " + " | ".join(cells) + f" | {totals} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--idle", type=float, default=70, help="seconds after the load before the last sample")
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=["pool", "pool2", "off"])
    args = parser.parse_args()
    results = []
    for replicas in args.replicas:
        for setting in args.settings:
            print(f"[bench] {replicas} worker replica(s), {SETTINGS[setting][0]} ...", flush=True)
            results.append(measure(replicas, setting, args.seconds, args.clients, args.idle))
            print(report(results[-1:], args.seconds, args.clients, args.idle), flush=True)
    print()
    print(report(results, args.seconds, args.clients, args.idle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
