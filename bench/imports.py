"""Benchmark the items CSV import and export on PostgreSQL, through inventory_svc under gunicorn.

1. ``POST /items/import`` of ``--rows`` new items (100,000 by default), each with opening stock:
   wall time, and the CPU of the server's processes (gunicorn) and of PostgreSQL's backends.
   Then the ledger is checked: one ``adjustment`` movement per item with stock, on hand == ledger
   (``check_stock_ledger``).
2. ``GET /items/export`` of them all, streamed: wall time, and the resident memory of the worker
   that serves it, sampled every 20 ms (it must stay flat: rows go out as they are read).
3. The exported file imported back: every item ``unchanged``, nothing written.

The service runs as deployed (DEBUG off, the shared gunicorn config, one worker so the memory
read is the serving worker's), against its own database ``<ERP_DB_PREFIX>bench_imports`` on
ERP_POSTGRES_URL, emptied first. Requests go straight to the service: the gateway's upstream
timeout (GATEWAY_UPSTREAM_TIMEOUT, 10 s) is the operator's to raise for files this large.
Usage: .venv/bin/python bench/imports.py [--rows 100000]   (make bench-imports)
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway_bench as gb

INVENTORY = gb.ROOT / "inventory_svc"


def ensure_database(server: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{server.rstrip('/')}/{name}"


def postgres_cpu_seconds(url: str, database: str) -> float:
    """CPU of PostgreSQL's backends serving ``database`` (user + system), from /proc."""
    return sum(postgres_backends_cpu(url, database).values())


def postgres_backends_cpu(url: str, database: str) -> dict[int, float]:
    """CPU so far of each PostgreSQL backend serving ``database`` (user + system), by pid, from /proc."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])]
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # closed since it was listed
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / gb.CLOCK_TICKS
    return seconds


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == master:
                return int(entry)
    raise RuntimeError("no gunicorn worker")


def csv_file(rows: int) -> bytes:
    rng = random.Random(22)
    lines = ["sku,name,description,unit_price,reorder_level,quantity"]
    for n in range(rows):
        lines.append(
            f"BENCH-{n:06d},Bench item {n},Imported for the benchmark,{rng.randint(1, 99999) / 100:.2f},"
            f"{rng.randint(0, 20)},{rng.randint(1, 500)}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def call(method: str, url: str, token: str, body: bytes | None = None, on_chunk=None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Authorization": f"Bearer {token}"})
    if body is not None:
        request.add_header("Content-Type", "text/csv")
    chunks = []
    with urllib.request.urlopen(request, timeout=600) as response:
        while chunk := response.read(256 * 1024):
            chunks.append(chunk) if on_chunk is None else on_chunk(chunk)
        return response.status, b"".join(chunks)


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [gb.PYTHON, "manage.py", *args], cwd=INVENTORY, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    server = os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    db_name = f"{os.environ.get('ERP_DB_PREFIX', 'erp_')}bench_imports"
    database = ensure_database(server, db_name)
    tmp = Path(tempfile.mkdtemp(prefix="erp-bench-imports-"))
    token = gb.mint_token(gb.base_env(tmp))  # also makes the run's key pair, which the service reads
    env = gb.production_env(gb.base_env(tmp), tmp)
    env.update(DATABASE_URL=database, GUNICORN_WORKERS="1", GUNICORN_TIMEOUT="300")
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", _EMPTY)
    port = gb.free_port()
    stack = gb.Stack(tmp)
    master = stack.start(
        "inventory",
        [gb.PYTHON, "-m", "gunicorn", "config.wsgi", "--config", gb.GUNICORN_CONF, "--bind", f"127.0.0.1:{port}"],
        INVENTORY,
        env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        gb.wait_http(f"{base}/items?limit=1", {"Authorization": f"Bearer {token}"})
        body = csv_file(args.rows)
        print(f"file: {args.rows} rows, {len(body) / 2**20:.1f} MiB")

        # 1. the import
        cpu_before, pg_before, started = sum(gb.group_cpu_seconds(master.pid)), 0.0, time.monotonic()
        pg_sampler = Sampler(lambda: postgres_cpu_seconds(server + "/postgres", db_name))
        status, answer = call("POST", f"{base}/items/import", token, body)
        wall = time.monotonic() - started
        pg_sampler.stop()
        cpu = sum(gb.group_cpu_seconds(master.pid)) - cpu_before
        print(f"import: HTTP {status} {answer.decode()}")
        print(
            f"import: wall {wall:.1f} s, server CPU {cpu:.1f} s ({cpu / args.rows * 1e6:.0f} µs/row), "
            f"PostgreSQL CPU ≥ {pg_sampler.peak - pg_before:.1f} s"
        )
        print("ledger:", manage(env, "shell", "-c", _LEDGER))
        print("check_stock_ledger:", manage(env, "check_stock_ledger").splitlines()[-1:] or ["(no output)"])

        # 2. the export, memory sampled
        worker = worker_pid(master.pid)
        rss_before = rss_kib(worker)
        sampler = Sampler(lambda: rss_kib(worker), interval=0.02)
        size = [0]
        started = time.monotonic()
        exported = bytearray()

        def keep(chunk: bytes) -> None:
            size[0] += len(chunk)
            exported.extend(chunk)

        status, _ = call("GET", f"{base}/items/export", token, on_chunk=keep)
        wall = time.monotonic() - started
        sampler.stop()
        print(
            f"export: HTTP {status}, {size[0] / 2**20:.1f} MiB in {wall:.1f} s; worker RSS before "
            f"{rss_before / 1024:.0f} MiB, peak during {sampler.peak / 1024:.0f} MiB "
            f"(+{(sampler.peak - rss_before) / 1024:.1f} MiB)"
        )

        # 3. the round trip
        started = time.monotonic()
        status, answer = call("POST", f"{base}/items/import", token, bytes(exported))
        print(f"re-import of the export: HTTP {status} {answer.decode()} in {time.monotonic() - started:.1f} s")
    finally:
        stack.stop_all()
    return 0


class Sampler:
    """Call ``probe`` every ``interval`` seconds in a thread and keep the largest value."""

    def __init__(self, probe, interval: float = 0.2):
        self.probe, self.interval, self.peak = probe, interval, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            try:
                value = self.probe()
            except OSError:  # the process ended between the listing and the read
                value = self.peak
            self.peak = max(self.peak, value)
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self.probe())


_EMPTY = """
from common.events.models import InboxEvent, OutboxEvent
from inventory.models import Item, SalesOrderIssue, Stock, StockMovement
for model in (StockMovement, SalesOrderIssue, Stock, Item, InboxEvent, OutboxEvent):
    model.objects.all().delete()
"""

_LEDGER = """
from django.db.models import Count
from inventory.models import Item, Stock, StockMovement
per_item = StockMovement.objects.values("item_id").annotate(n=Count("id")).filter(n__gt=1).count()
print(f"{Item.objects.count()} items, {Stock.objects.filter(quantity__gt=0).count()} with stock, "
      f"{StockMovement.objects.count()} movements, {per_item} items with more than one")
"""

if __name__ == "__main__":
    sys.exit(main())
