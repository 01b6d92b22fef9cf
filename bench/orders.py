"""Benchmark the order path: clients create and confirm one-unit sales orders through the gateway.

Starts the local run (scripts/run.py) on PostgreSQL + RabbitMQ with databases and
broker names of its own (``erp_bo_<tag>_*``, ``bo<tag>.*``, removed afterwards) on spare
ports, stocks one item through a received purchase order, then lets ``--clients``
threads each loop ``POST /api/sales/orders`` (one unit) + ``POST .../confirm`` for
``--duration`` seconds. Reports orders/s created, confirmed and issued (issued: until
inventory has answered every confirmation), p50/p95 of create+confirm, and checks
afterwards that stock on hand = received - confirmed and that the ledger adds up.

Where the time goes: the same create and confirm sent to sales_svc directly (without
the gateway), and each call sales makes on the way (contact's GET /customers/{id},
inventory's item lookup and availability check) timed alone with a service token.

``--json FILE`` also writes what it measured, for bench/capacity.py: orders/s, the CPU per
order of each process kind, and what each order leaves in each database (bytes of tables and
indexes, outbox and inbox rows) and holds of it (connections busy in a query or a transaction,
sampled from pg_stat_activity under the load). ``--worker-replicas 1`` runs each service's
relay and consumer as processes of their own (the containers' layout), so their CPU is apart.

Usage: .venv/bin/python bench/orders.py [--clients 8] [--duration 15] [--port-base 27600]
    [--db-prefix erp_bo_] [--worker-replicas N] [--json FILE]
Needs ERP_POSTGRES_URL-style servers at 127.0.0.1 (PostgreSQL, RabbitMQ) as `make test` does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("ERP_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
AMQP_URL = os.environ.get("ERP_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
sys.path.insert(0, str(ROOT / "scripts"))
from run import SERVICES, demo_user  # noqa: E402 (scripts/ is not a package)

sys.path.insert(0, str(ROOT / "bench"))
from processes import cpu_seconds, descendants, processes_named, run_kind  # noqa: E402

FM = demo_user("finance_manager")
SALES_OFFSET, CONTACT_OFFSET, INVENTORY_OFFSET, AUTH_OFFSET = 4, 1, 3, 2


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def line(name: str, seconds: list[float]) -> None:
    p50, p95 = percentile(seconds, 50) * 1000, percentile(seconds, 95) * 1000
    print(f"  {name:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (n={len(seconds)})", flush=True)


class Api:
    """A pooled JSON client of one base URL with a bearer token."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.session = base, requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body=None, expected: int = 200):
        response = self.session.request(method, f"{self.base}{path}", json=body, timeout=30)
        if response.status_code != expected:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json().get("data")

    def timed(self, method: str, path: str, body=None, expected: int = 200):
        started = time.perf_counter()
        data = self.call(method, path, body, expected)
        return data, time.perf_counter() - started


def platform_env(data_dir: Path, port_base: int, db_prefix: str, events_prefix: str) -> dict[str, str]:
    """The environment of a local run (scripts/run.py) with databases and broker names of its own."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_DEBUG"}}
    env.update(
        {
            "ERP_DATA_DIR": str(data_dir),
            "ERP_PORT_BASE": str(port_base),
            "ERP_POSTGRES_URL": PG_SERVER,
            "ERP_DB_PREFIX": db_prefix,
            "BROKER_URL": AMQP_URL,
            "ERP_EVENTS_PREFIX": events_prefix,
        }
    )
    return env


def start_platform(
    data_dir: Path, port_base: int, db_prefix: str, events_prefix: str, *, timeout: float = 300
) -> subprocess.Popen:
    env = platform_env(data_dir, port_base, db_prefix, events_prefix)
    log = open(data_dir / "run.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port_base}/health", timeout=3).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(1)
    stop_platform(process)
    raise SystemExit(f"local run not healthy; see {data_dir / 'run.log'}")


def stop_platform(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cleanup(db_prefix: str, events_prefix: str) -> None:
    """Drop only this run's databases and broker names (its Celery job queues and exchanges too)."""
    from erp_testkit.broker import delete_run_names
    from erp_testkit.databases import drop_databases

    delete_run_names(AMQP_URL, events_prefix, [service.name for service in SERVICES])
    drop_databases(PG_SERVER, db_prefix)


def wait_for(predicate, timeout: float, what: str) -> float:
    """Poll until ``predicate()``; return when it became true (monotonic)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def stock_one_item(gateway: Api, tag: str, stocked: int) -> tuple[dict, dict]:
    """Create a customer and an item with ``stocked`` units received from a vendor; return (customer, item)."""
    customer = gateway.call("POST", "/api/customers", {"name": "Bench Ltd", "email": f"{tag}@bench.example"}, 201)
    vendor = gateway.call("POST", "/api/vendors", {"name": "Bench Supply", "email": f"{tag}@supply.example"}, 201)
    item = gateway.call("POST", "/api/items", {"sku": f"BENCH-{tag}", "name": "Bench unit", "unit_price": 1}, 201)
    purchase = gateway.call(
        "POST",
        "/api/purchase/orders",
        {"vendor_id": vendor["id"], "items": [{"item_id": item["id"], "quantity": stocked}]},
        201,
    )
    gateway.call("POST", f"/api/purchase/orders/{purchase['id']}/receive")
    stock_path = f"/api/items/{item['id']}/stock"
    wait_for(lambda: gateway.call("GET", stock_path)["quantity"] == stocked, 60, "the received stock")
    return customer, item


def load(gateway: Api, customer_id: str, item_id: str, clients: int, duration: float):
    """Run the clients; return (create, confirm, total) latencies and the confirmed order ids."""
    creates, confirms, totals, confirmed, errors = [], [], [], [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    body = {"customer_id": customer_id, "items": [{"item_id": item_id, "quantity": 1}]}

    def client():
        api = Api(gateway.base, gateway.session.headers["Authorization"].removeprefix("Bearer "))
        while time.monotonic() < stop_at:
            try:
                order, created = api.timed("POST", "/api/sales/orders", body, 201)
                _, confirming = api.timed("POST", f"/api/sales/orders/{order['id']}/confirm")
            except (RuntimeError, requests.RequestException) as exc:
                with lock:
                    errors.append(str(exc))
                continue
            with lock:
                creates.append(created)
                confirms.append(confirming)
                totals.append(created + confirming)
                confirmed.append(order["id"])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return creates, confirms, totals, confirmed, errors, time.monotonic() - started, started


def hops(base: int, user_token: str, service_token: str, customer_id: str, item_id: str, samples: int) -> None:
    """Time the create and confirm direct to sales, and each call sales makes, one at a time."""
    sales = Api(f"http://127.0.0.1:{base + SALES_OFFSET}", user_token)
    contact = Api(f"http://127.0.0.1:{base + CONTACT_OFFSET}", service_token)
    inventory = Api(f"http://127.0.0.1:{base + INVENTORY_OFFSET}", service_token)
    gateway = Api(f"http://127.0.0.1:{base}", user_token)
    body = {"customer_id": customer_id, "items": [{"item_id": item_id, "quantity": 1}]}
    rows: dict[str, list[float]] = {name: [] for name in ("gw create", "gw confirm", "create", "confirm")}
    rows |= {"contact GET /customers/{id}": [], "inventory items/lookup": [], "inventory stock/availability": []}
    for _ in range(samples):
        order, seconds = gateway.timed("POST", "/api/sales/orders", body, 201)
        rows["gw create"].append(seconds)
        rows["gw confirm"].append(gateway.timed("POST", f"/api/sales/orders/{order['id']}/confirm")[1])
        order, seconds = sales.timed("POST", "/orders", body, 201)
        rows["create"].append(seconds)
        rows["confirm"].append(sales.timed("POST", f"/orders/{order['id']}/confirm")[1])
        rows["contact GET /customers/{id}"].append(contact.timed("GET", f"/customers/{customer_id}")[1])
        rows["inventory items/lookup"].append(inventory.timed("POST", "/internal/items/lookup", {"ids": [item_id]})[1])
        availability = {"items": [{"item_id": item_id, "quantity": 1}]}
        rows["inventory stock/availability"].append(
            inventory.timed("POST", "/internal/stock/availability", availability)[1]
        )
    print(f"\nwhere the time goes (one request at a time, {samples} samples):")
    line("through the gateway: create", rows["gw create"])
    line("through the gateway: confirm", rows["gw confirm"])
    line("sales_svc direct: create", rows["create"])
    line("sales_svc direct: confirm", rows["confirm"])
    for name in ("contact GET /customers/{id}", "inventory items/lookup", "inventory stock/availability"):
        line(f"  of which {name}", rows[name])
    # The customer and the items are asked for at the same time: the slower of the two counts.
    calls = max(
        statistics.median(rows["contact GET /customers/{id}"]), statistics.median(rows["inventory items/lookup"])
    )
    own = statistics.median(rows["create"]) - calls
    gw = statistics.median(rows["gw create"]) - statistics.median(rows["create"])
    print(f"  create: sales' own work ~{own * 1000:.1f} ms (median), the gateway hop ~{gw * 1000:.1f} ms")


def cpu_snapshot(root: int, db_prefix: str) -> dict[int, tuple[str, float]]:
    """pid -> (kind, CPU seconds so far) of every process the orders cost: the run's, this run's PostgreSQL
    backends, the RabbitMQ server (the machine's, shared with other work: an upper bound) and this bench."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        backends = conn.execute(
            "SELECT pid, datname FROM pg_stat_activity WHERE datname LIKE %s", [db_prefix + "%"]
        ).fetchall()
    kinds = {pid: run_kind(pid) for pid in descendants(root)}
    kinds |= {pid: f"PostgreSQL ({name.removeprefix(db_prefix)})" for pid, name in backends}
    kinds |= {pid: "RabbitMQ (the machine's)" for pid in processes_named("beam.smp")}
    kinds[os.getpid()] = "load generator (this bench)"
    snapshot = {}
    for pid, kind in kinds.items():
        try:
            snapshot[pid] = (kind, cpu_seconds(pid))
        except (OSError, IndexError, ValueError):  # gone since it was listed
            continue
    return snapshot


def cpu_report(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], orders: int
) -> dict[str, float]:
    """Print the CPU per order of each process kind between two snapshots, and the total; return ms per kind.

    A process that appeared in between counts whole (a PostgreSQL backend opened under the load);
    one that ended in between is lost (the run keeps its connections and processes, so few are).
    """
    per_kind: dict[str, float] = {}
    for pid, (kind, seconds) in after.items():
        used = seconds - before.get(pid, (kind, 0.0))[1]
        per_kind[kind] = per_kind.get(kind, 0.0) + used
    print(f"\nCPU per order ({orders} orders, user + system time from the load's start until every order was issued):")
    platform = 0.0
    for kind, seconds in sorted(per_kind.items(), key=lambda row: -row[1]):
        if seconds * 1000 / max(orders, 1) < 0.05:
            continue
        print(f"  {kind:<44} {seconds * 1000 / max(orders, 1):7.2f} ms")
        platform += 0 if kind.startswith("load generator") else seconds
    print(f"  {'total without the load generator':<44} {platform * 1000 / max(orders, 1):7.2f} ms", flush=True)
    return {kind: round(seconds * 1000 / max(orders, 1), 3) for kind, seconds in sorted(per_kind.items())}


def database_footprint(db_prefix: str) -> dict[str, dict[str, int]]:
    """Per database of this run: bytes of its tables with their indexes and TOAST, outbox and inbox rows."""
    import psycopg
    from psycopg import sql

    footprint = {}
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        names = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [db_prefix + "%"]).fetchall()
    for (name,) in names:
        with psycopg.connect(f"{PG_SERVER}/{name}", autocommit=True) as conn:
            size = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
            ).fetchone()[0]
            counts = {"bytes": int(size)}
            for table in ("events_outboxevent", "events_inboxevent"):
                exists = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0]
                count = sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))
                counts[table] = conn.execute(count).fetchone()[0] if exists else 0
        footprint[name.removeprefix(db_prefix)] = counts
    return footprint


def footprint_per_order(before: dict, after: dict, orders: int) -> dict[str, dict[str, float]]:
    """What one order added to each database: bytes, outbox rows (events published), inbox rows (applied)."""
    fields = {"bytes": "bytes_per_order", "events_outboxevent": "outbox_rows_per_order"}
    fields["events_inboxevent"] = "inbox_rows_per_order"
    return {
        database: {
            name: round((counts[field] - before.get(database, {}).get(field, 0)) / max(orders, 1), 3)
            for field, name in fields.items()
        }
        for database, counts in sorted(after.items())
    }


class BusyConnections(threading.Thread):
    """Sample pg_stat_activity under the load: per database, the connections inside a query or a transaction.

    Their mean is what a transaction-mode pooler would need to hold (Little's law: orders/s x the
    connection-seconds an order keeps), whatever the processes keep open besides; ``open_peak`` is the
    most connections each database had at once. On a busy machine a descheduled process holds its
    transaction longer, so the figure is an upper bound.
    """

    def __init__(self, db_prefix: str, every: float = 0.1):
        super().__init__(daemon=True)
        self.db_prefix, self.every = db_prefix, every
        self.samples = 0
        self.busy_sum: dict[str, int] = {}
        self.open_peak: dict[str, int] = {}
        self.stopping = threading.Event()
        self.seconds = 0.0

    def run(self) -> None:
        import psycopg

        started = time.monotonic()
        query = (
            "SELECT datname, COUNT(*) FILTER (WHERE state IN ('active', 'idle in transaction')"
            " AND backend_type = 'client backend'), COUNT(*) FROM pg_stat_activity"
            " WHERE datname LIKE %s AND pid <> pg_backend_pid() GROUP BY datname"
        )
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            while not self.stopping.is_set():
                for name, busy, connections in conn.execute(query, [self.db_prefix + "%"]).fetchall():
                    database = name.removeprefix(self.db_prefix)
                    self.busy_sum[database] = self.busy_sum.get(database, 0) + busy
                    self.open_peak[database] = max(self.open_peak.get(database, 0), connections)
                self.samples += 1
                self.stopping.wait(self.every)
        self.seconds = time.monotonic() - started

    def result(self, orders: int) -> dict[str, dict[str, float]]:
        """Per database: mean busy connections, busy connection-milliseconds per order, most connections open."""
        figures = {}
        for database, peak in sorted(self.open_peak.items()):
            busy_mean = self.busy_sum[database] / max(self.samples, 1)
            figures[database] = {
                "busy_mean": round(busy_mean, 3),
                "busy_connection_ms_per_order": round(busy_mean * self.seconds * 1000 / max(orders, 1), 3),
                "open_peak": peak,
            }
        return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--port-base", type=int, default=27600)
    parser.add_argument("--hop-samples", type=int, default=40)
    parser.add_argument("--db-prefix", default="erp_bo_", help="the run's databases: <prefix><tag>_<service>")
    parser.add_argument("--worker-replicas", type=int, help="ERP_WORKER_REPLICAS of the run (relays, consumers)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/capacity.py)")
    args = parser.parse_args()
    if args.worker_replicas:
        os.environ["ERP_WORKER_REPLICAS"] = str(args.worker_replicas)

    tag = uuid.uuid4().hex[:8]
    db_prefix, events_prefix = f"{args.db_prefix}{tag}_", f"bo{tag}."
    data_dir = Path(tempfile.mkdtemp(prefix="erp-bench-orders-"))
    base, gateway_url = args.port_base, f"http://127.0.0.1:{args.port_base}"
    process = start_platform(data_dir, base, db_prefix, events_prefix)
    passed = False
    try:
        token = Api(gateway_url).call("POST", "/api/auth/login", {"email": FM[0], "password": FM[1]})["access_token"]
        gateway = Api(gateway_url, token)
        stocked = 1_000_000
        customer, item = stock_one_item(gateway, tag, stocked)
        stock_path = f"/api/items/{item['id']}/stock"

        print(f"{args.clients} clients, {args.duration:.0f} s, create + confirm of one-unit sales orders (gateway)")
        load_before = os.getloadavg()
        print(f"  load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
        footprint_before = database_footprint(db_prefix)
        busy = BusyConnections(db_prefix)
        busy.start()
        cpu_before = cpu_snapshot(process.pid, db_prefix)
        creates, confirms, totals, confirmed, errors, elapsed, started = load(
            gateway, customer["id"], item["id"], args.clients, args.duration
        )
        expected_stock = stocked - len(confirmed)
        issued_at = wait_for(
            lambda: gateway.call("GET", stock_path)["quantity"] == expected_stock, 120, "inventory to issue every order"
        )
        pending_path = "/api/sales/orders?stock_status=pending&limit=1"
        wait_for(lambda: not gateway.call("GET", pending_path), 60, "every order to learn it was issued")
        cpu_after = cpu_snapshot(process.pid, db_prefix)
        busy.stopping.set()
        busy.join()
        load_after = os.getloadavg()
        print(f"  load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
        print(f"  created   {len(creates) / elapsed:7.1f} orders/s")
        print(f"  confirmed {len(confirms) / elapsed:7.1f} orders/s")
        print(f"  issued    {len(confirmed) / (issued_at - started):7.1f} orders/s (until inventory answered the last)")
        line("create", creates)
        line("confirm", confirms)
        line("create + confirm", totals)
        if errors:
            print(f"  {len(errors)} failed requests, e.g. {errors[0]}")
        cpu_ms_per_order = cpu_report(cpu_before, cpu_after, len(confirmed))
        footprint = footprint_per_order(footprint_before, database_footprint(db_prefix), len(confirmed))

        movements = gateway.call("GET", f"/api/items/{item['id']}/movements?limit=1")
        quantity = gateway.call("GET", stock_path)["quantity"]
        assert quantity == expected_stock, (quantity, expected_stock)
        assert movements[0]["quantity_after"] == quantity, movements
        ledger = subprocess.run(
            [sys.executable, "manage.py", "check_stock_ledger"],
            cwd=ROOT / "inventory_svc",
            env={
                **os.environ,
                "DJANGO_DEBUG": "1",
                "ERP_DATA_DIR": str(data_dir),
                "DATABASE_URL": f"{PG_SERVER}/{db_prefix}inventory",
            },
            capture_output=True,
            text=True,
        )
        print(f"  stock {quantity} = {stocked} received - {len(confirmed)} confirmed; ledger: {ledger.stdout.strip()}")
        if ledger.returncode != 0:
            print(ledger.stderr[-2000:])
            return 1
        if args.json:
            figures = {
                "bench": "bench/orders.py",
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "clients": args.clients,
                "duration_s": args.duration,
                "worker_replicas": int(os.environ.get("ERP_WORKER_REPLICAS", "1")),
                "cpu_count": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
                "orders": len(confirmed),
                "errors": len(errors),
                "orders_per_s_created": round(len(creates) / elapsed, 2),
                "orders_per_s_issued": round(len(confirmed) / (issued_at - started), 2),
                "create_confirm_p50_ms": round(percentile(totals, 50) * 1000, 1),
                "create_confirm_p95_ms": round(percentile(totals, 95) * 1000, 1),
                "cpu_ms_per_order": cpu_ms_per_order,
                "database_per_order": footprint,
                "database_connections": busy.result(len(confirmed)),
            }
            args.json.write_text(json.dumps(figures, indent=2) + "\n")
            print(f"  figures written to {args.json}")

        secrets = json.loads((data_dir / "secrets.json").read_text())
        auth = Api(f"http://127.0.0.1:{base + AUTH_OFFSET}")
        service_token = auth.call(
            "POST", "/service-token", {"service_name": "sales", "service_secret": secrets["SERVICE_SECRET_SALES"]}
        )["access_token"]
        hops(base, token, service_token, customer["id"], item["id"], args.hop_samples)
        passed = True
        return 0
    finally:
        stop_platform(process)
        cleanup(db_prefix, events_prefix)
        if passed:  # the run's logs and files are kept only when it failed, to be read
            shutil.rmtree(data_dir)


if __name__ == "__main__":
    sys.exit(main())
