"""Benchmark the API at the issue's scale: items, their ledger and sales orders, read through the gateway.

Starts the local run (scripts/run.py) on PostgreSQL + RabbitMQ with databases and broker names of its own
(``<ERP_DB_PREFIX>scale_*``, ``scale.*``) on spare ports, one gunicorn worker of two threads per service
(the reads come one at a time), then seeds, unless ``--reuse`` finds the seed of a ``--keep`` run:

- ``--items`` items (100,000) with opening stock through their bulk path, ``POST /items/import`` (one
  ``adjustment`` movement per item with stock, as an operator's import leaves them); then, in SQL, their
  creation spread over the last year and one in a hundred archived (its stock row's summary made to match);
- movements up to ``--movements`` (1,000,000) in SQL: pairs of adjustments, ``+k`` then ``-k``, after each
  item's opening movement, so on hand stays the sum of the item's ledger, every ``quantity_after`` is what
  the item then had, and ``check_stock_ledger`` passes. One item, the first by SKU, is "hot": it has a
  fiftieth of the movements, and its first page is the ledger's worst case;
- ``--orders`` sales orders (100,000) of one to three lines of those items, over ``--customers`` customers
  (1,000), created over the last year, in SQL (there is no bulk order API): drafts, confirmed, paid and
  cancelled ones with the stock status, timestamps and totals each status has.

Then, through the gateway with the demo admin's token, each read ``--samples`` times one after another
(warm-ups not counted): p50/p95/max, and the CPU per request of the web servers (gunicorn masters and
workers, /proc) and of their PostgreSQL backends. The reads: the item list's first page, its search, each
of its filters and orderings (inventory.filters), one item's movements, the sales order list filtered by
customer and by each of its other filters and orderings (sales.filters). Then ``check_stock_ledger``'s wall
time, and ``GET /items/export`` of every item while inventory's worker's resident memory is sampled.

Usage: .venv/bin/python bench/scale.py [--items 100000] [--movements 1000000] [--orders 100000]
    [--customers 1000] [--samples 100] [--port-base 27800] [--keep] [--reuse] [--explain]
    (make bench-scale ARGS="...")
Needs the local PostgreSQL and RabbitMQ (ERP_BENCH_POSTGRES_URL / ERP_BENCH_BROKER_URL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests
from home import WARM_UP, import_items, manage, percentile, timed_gets, web_groups
from imports import Sampler, rss_kib, worker_pid
from orders import PG_SERVER, cleanup, platform_env, start_platform, stop_platform

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run import SERVICES, demo_user  # noqa: E402 (scripts/ is not a package)

DATA_DIR = ROOT / ".run" / "bench-scale"  # kept with the databases: the run's secrets are in it
EVENTS_PREFIX = "scale."
HOT_SHARE = 50  # the hot item has 1/HOT_SHARE of the movements
ARCHIVED_EVERY = 100  # one item in a hundred is archived
OFFSETS = {service.name: service.port_offset for service in SERVICES}

SPREAD_ITEMS = """
CREATE TEMP TABLE bench_spread AS
    SELECT id, now() - interval '400 days' + row_number() OVER (ORDER BY sku) * (interval '380 days' / %(items)s) AS at,
           row_number() OVER (ORDER BY sku) AS rank
    FROM inventory_item;
UPDATE inventory_item i SET created_at = s.at, updated_at = s.at + interval '1 hour',
       active = s.rank %% %(archived_every)s <> 0
    FROM bench_spread s WHERE s.id = i.id;
UPDATE inventory_stockmovement m SET created_at = s.at FROM bench_spread s WHERE s.id = m.item_id;
UPDATE inventory_stock st SET reorder_shortfall = NULL
    FROM inventory_item i WHERE i.id = st.item_id AND NOT i.active;
"""

# Pairs of adjustments after the item's opening movement (n odd: +k, n even: the same k back): on hand
# and the summary figures stay as the import left them, and each quantity_after is what the item then had.
MOVEMENT_PAIRS = """
WITH ranked AS (
    SELECT s.item_id, s.quantity, i.created_at, row_number() OVER (ORDER BY i.sku) AS rank
    FROM inventory_stock s JOIN inventory_item i ON i.id = s.item_id
)
INSERT INTO inventory_stockmovement (id, item_id, change, quantity_after, reason, note, actor, created_at)
SELECT gen_random_uuid(), r.item_id,
       CASE WHEN n %% 2 = 1 THEN 1 + n %% 7 ELSE -(1 + (n - 1) %% 7) END,
       CASE WHEN n %% 2 = 1 THEN r.quantity + 1 + n %% 7 ELSE r.quantity END,
       'adjustment', '', 'bench/scale.py', r.created_at + n * interval '1 minute'
FROM ranked r
CROSS JOIN LATERAL generate_series(
    1, 2 * (%(pairs)s + (r.rank <= %(remainder)s)::int + CASE WHEN r.rank = 1 THEN %(hot)s ELSE 0 END)
) AS n
"""

# Order n: created n/orders of the way through the last year; a tenth drafts, a tenth cancelled after
# confirmation (stock returned), four tenths confirmed and half paid, the stock issued (one in a
# thousand short, one backordered).
SALES_ORDERS = """
INSERT INTO sales_salesorder (id, total_amount, revision, created_at, updated_at, paid_at, cancelled_at,
                              customer_id, customer_name, status, stock_status, confirmed_at,
                              allow_backorder, stock_version)
SELECT md5('scale-order-' || n)::uuid, 0, 1, at, at + interval '3 hours',
       CASE WHEN status = 'Paid' THEN at + interval '2 hours' END,
       CASE WHEN status = 'Cancelled' THEN at + interval '2 hours' END,
       md5('scale-customer-' || n %% %(customers)s)::uuid, 'Scale customer ' || n %% %(customers)s, status,
       CASE WHEN status = 'Draft' THEN NULL WHEN status = 'Cancelled' THEN 'returned'
            WHEN n %% 1000 = 2 THEN 'short' WHEN n %% 1000 = 3 THEN 'backordered' ELSE 'issued' END,
       CASE WHEN status <> 'Draft' THEN at + interval '1 hour' END,
       n %% 1000 = 3, CASE WHEN status = 'Draft' THEN 0 ELSE 1 END
FROM (
    SELECT n, now() - interval '400 days' + n * (interval '399 days' / %(orders)s) AS at,
           CASE WHEN n %% 10 = 0 THEN 'Draft' WHEN n %% 10 = 1 THEN 'Cancelled'
                WHEN n %% 2 = 0 THEN 'Confirmed' ELSE 'Paid' END AS status
    FROM generate_series(0, %(orders)s - 1) AS n
) AS o
"""

SALES_LINES = """
INSERT INTO sales_salesorderline (id, position, item_id, sku, name, quantity, unit_price, subtotal, order_id,
                                  quantity_issued, quantity_backordered)
SELECT gen_random_uuid(), p, i.id, i.sku, i.name, 1 + (n + p) %% 5, i.unit_price, (1 + (n + p) %% 5) * i.unit_price,
       o.id, CASE WHEN o.stock_status = 'issued' THEN 1 + (n + p) %% 5 ELSE 0 END,
       CASE WHEN o.stock_status = 'backordered' THEN 1 + (n + p) %% 5 ELSE 0 END
FROM generate_series(0, %(orders)s - 1) AS n
JOIN sales_salesorder o ON o.id = md5('scale-order-' || n)::uuid
CROSS JOIN LATERAL generate_series(0, n %% 3) AS p
JOIN bench_item i ON i.rank = (n * 7 + p * 7919) %% %(items)s;
UPDATE sales_salesorder o SET total_amount = l.total
    FROM (SELECT order_id, SUM(subtotal) AS total FROM sales_salesorderline GROUP BY order_id) AS l
    WHERE l.order_id = o.id;
"""


# Where the gateway sends the services' paths (/api/items -> inventory /items, /api/sales/orders -> sales /orders).
GATEWAY_PREFIX = {"inventory": "/api", "sales": "/api/sales"}

# Run in a service's shell (--explain): each read's queries, run by the view itself, and their plans at scale.
EXPLAIN = """
from rest_framework.test import APIClient
from common.authentication import TokenUser
from erp_testkit.plans import request_plans
client = APIClient(HTTP_HOST="localhost")
client.force_authenticate(TokenUser({"user_id": "bench-scale", "role": "admin", "type": "access"}))
for label, path in READS:
    print(f"\\n== {label}: GET {path}")
    print("\\n".join(request_plans(client, path, analyze=True)))
"""


@dataclass(frozen=True)
class Read:
    """One read of a service's list: the service, the read's label in the table, its path at the service."""

    service: str
    label: str
    path: str

    @property
    def gateway_path(self) -> str:
        return GATEWAY_PREFIX[self.service] + self.path


def md5_uuid(text: str) -> uuid.UUID:
    """The UUID PostgreSQL's ``md5(text)::uuid`` makes: how the seed names its customers."""
    return uuid.UUID(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest())


def database(db_prefix: str, service: str) -> psycopg.Connection:
    """A connection to ``service``'s database of this run, each statement its own transaction (VACUUM needs it)."""
    return psycopg.connect(f"{PG_SERVER}/{db_prefix}{service}", autocommit=True)


def execute_script(conn: psycopg.Connection, script: str, params: dict) -> None:
    """Run each statement of ``script`` with ``params`` (a prepared statement holds one)."""
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement, params)


def seeded(db_prefix: str, args: argparse.Namespace) -> bool:
    """True if a kept run's databases hold this seed (as many items and sales orders, or more)."""
    try:
        with database(db_prefix, "inventory") as conn:
            items = conn.execute("SELECT COUNT(*) FROM inventory_item").fetchone()[0]
        with database(db_prefix, "sales") as conn:
            orders = conn.execute("SELECT COUNT(*) FROM sales_salesorder").fetchone()[0]
    except psycopg.Error:  # no such database or table: nothing kept
        return False
    return items >= args.items and orders >= args.orders


def seed_inventory(db_prefix: str, inventory: str, token: str, args: argparse.Namespace) -> None:
    """Import the items, spread their creation over the year, archive some, then write the movements."""
    started = time.monotonic()
    import_items(inventory, token, args.items)
    print(f"seeded {args.items} items by import in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    with database(db_prefix, "inventory") as conn:
        execute_script(conn, SPREAD_ITEMS, {"items": args.items, "archived_every": ARCHIVED_EVERY})
        existing, items = conn.execute(
            "SELECT (SELECT COUNT(*) FROM inventory_stockmovement), (SELECT COUNT(*) FROM inventory_stock)"
        ).fetchone()
        pairs = max(0, args.movements - existing) // 2
        hot = pairs // HOT_SHARE
        each, remainder = divmod(pairs - hot, items)
        conn.execute(MOVEMENT_PAIRS, {"pairs": each, "remainder": remainder, "hot": hot})
        conn.execute("VACUUM ANALYZE")  # the updates left dead rows behind
        total = conn.execute("SELECT COUNT(*) FROM inventory_stockmovement").fetchone()[0]
    print(f"seeded movements up to {total} in {time.monotonic() - started:.0f} s", flush=True)


def seed_sales(db_prefix: str, args: argparse.Namespace) -> None:
    """Write the sales orders and their lines, of the items inventory has (copied into a temporary table)."""
    started = time.monotonic()
    with database(db_prefix, "inventory") as source, database(db_prefix, "sales") as conn:
        conn.execute(
            "CREATE TEMP TABLE bench_item (rank int PRIMARY KEY, id uuid, sku text, name text, unit_price numeric)"
        )
        rows = source.execute(
            "SELECT row_number() OVER (ORDER BY sku) - 1, id, sku, name, unit_price FROM inventory_item WHERE active"
        ).fetchall()
        with conn.cursor().copy("COPY bench_item FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute(SALES_ORDERS, {"orders": args.orders, "customers": args.customers})
        execute_script(conn, SALES_LINES, {"orders": args.orders, "items": len(rows)})
        conn.execute("VACUUM ANALYZE")  # the updates left dead rows behind
        lines = conn.execute("SELECT COUNT(*) FROM sales_salesorderline").fetchone()[0]
    print(f"seeded {args.orders} sales orders ({lines} lines) in {time.monotonic() - started:.0f} s", flush=True)


def days_ago(days: int) -> str:
    """The moment ``days`` ago, as the list filters read it (ISO 8601, UTC)."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def item_reads(db_prefix: str) -> list[Read]:
    """The item list's first page, search, every filter and ordering (inventory.filters), and two ledgers."""
    with database(db_prefix, "inventory") as conn:
        (hot,) = conn.execute(
            "SELECT item_id FROM inventory_stockmovement GROUP BY item_id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        typical, sku = conn.execute("SELECT id, sku FROM inventory_item ORDER BY sku OFFSET 500 LIMIT 1").fetchone()
    middle = days_ago(200)  # the seed's rows span the last 400 days: about half on each side
    reads = [
        Read("inventory", "items: first page", "/items"),
        Read("inventory", "items: search, every item matches", "/items?search=bench"),
        Read("inventory", "items: search, one SKU matches", f"/items?search={sku[-6:]}"),
        Read("inventory", "items: sku", f"/items?sku={sku.lower()}"),
        Read("inventory", "items: below_reorder_level=true", "/items?below_reorder_level=true"),
        Read("inventory", "items: below_reorder_level=false", "/items?below_reorder_level=false"),
        Read("inventory", "items: active=true", "/items?active=true"),
        Read("inventory", "items: active=false", "/items?active=false"),
        Read("inventory", "items: created_after", f"/items?created_after={middle}"),
        Read("inventory", "items: created_before", f"/items?created_before={middle}"),
    ]
    for field in ("sku", "name", "unit_price", "reorder_level", "quantity", "created_at", "updated_at"):
        reads += [Read("inventory", f"items: ordering={field}", f"/items?ordering={field}")]
        reads += [Read("inventory", f"items: ordering=-{field}", f"/items?ordering=-{field}")]
    reads += [
        Read("inventory", "movements of a typical item, first page", f"/items/{typical}/movements"),
        Read("inventory", f"movements of the hot item (1/{HOT_SHARE}), first page", f"/items/{hot}/movements"),
    ]
    return reads


def sales_reads(args: argparse.Namespace) -> list[Read]:
    """The sales order list: by customer, each other filter and ordering (sales.filters), a search."""
    customer = md5_uuid(f"scale-customer-{args.customers // 2}")
    middle = days_ago(200)  # the seed's rows span the last 400 days: about half on each side
    reads = [
        Read("sales", "orders: first page", "/orders"),
        Read("sales", "orders: customer_id", f"/orders?customer_id={customer}"),
        Read(
            "sales",
            "orders: customer_id, ordering=-total_amount",
            f"/orders?customer_id={customer}&ordering=-total_amount",
        ),
        Read("sales", "orders: status=Draft", "/orders?status=Draft"),
        Read("sales", "orders: stock_status=short", "/orders?stock_status=short"),
        Read("sales", "orders: stock_status=pending", "/orders?stock_status=pending"),
        Read("sales", "orders: created_after", f"/orders?created_after={middle}"),
        Read("sales", "orders: confirmed_before", f"/orders?confirmed_before={middle}"),
        Read("sales", "orders: search, a customer's name", f"/orders?search=customer%20{args.customers // 3}"),
    ]
    for field in ("created_at", "updated_at", "total_amount", "status"):
        reads += [Read("sales", f"orders: ordering={field}", f"/orders?ordering={field}")]
        reads += [Read("sales", f"orders: ordering=-{field}", f"/orders?ordering=-{field}")]
    return reads


def measure(session: requests.Session, gateway: str, read: Read, samples: int, groups: dict, db_prefix: str) -> dict:
    """Time ``samples`` GETs of ``read`` one after another; the CPU the processes and PostgreSQL spent on them."""
    timings, spent, answer = timed_gets(
        session, f"{gateway}{read.gateway_path}", count=samples, groups=groups, db_prefix=db_prefix
    )
    timings = timings[WARM_UP:]
    return {
        "p50": percentile(timings, 50) * 1000,
        "p95": percentile(timings, 95) * 1000,
        "max": max(timings) * 1000,
        "cpu": sum(spent.values()),
        "postgres": spent["postgres"],
        "total": answer.json()["meta"]["total"],
    }


def explain(env: dict[str, str], reads: list[Read]) -> None:
    """Print the plan of each read's queries, run at scale (EXPLAIN ANALYZE), from each service's shell."""
    for service in GATEWAY_PREFIX:
        own = [(read.label, read.path) for read in reads if read.service == service]
        print(manage(env, service, "shell", "-c", EXPLAIN.replace("READS", repr(own))))


def check_ledger(env: dict[str, str]) -> tuple[float, str]:
    """Run ``check_stock_ledger`` as an operator does; its wall time (with Django's start) and last line."""
    started = time.monotonic()
    output = manage(env, "inventory", "check_stock_ledger")
    return time.monotonic() - started, output.splitlines()[-1]


def export_items(session: requests.Session, gateway: str, worker: int) -> dict:
    """Stream ``GET /items/export`` through the gateway while the serving worker's RSS is sampled every 20 ms."""
    rss_before = rss_kib(worker)
    sampler = Sampler(lambda: rss_kib(worker), interval=0.02)
    size = rows = 0
    started = time.monotonic()
    with session.get(f"{gateway}/api/items/export", stream=True, timeout=600) as answer:
        if answer.status_code != 200:
            raise SystemExit(f"export answered {answer.status_code}: {answer.text[:300]}")
        for chunk in answer.iter_content(256 * 1024):
            size += len(chunk)
            rows += chunk.count(b"\n")
    wall = time.monotonic() - started
    sampler.stop()
    return {
        "wall": wall,
        "mib": size / 2**20,
        "rows": rows - 1,
        "before": rss_before / 1024,
        "peak": sampler.peak / 1024,
    }


def inventory_worker(base: int) -> int:
    """The pid of inventory_svc's gunicorn worker (one per service in this run), by its master's port."""
    return worker_pid(web_groups(base)["inventory"])


HEADER = (
    f"{'read (through the gateway)':<52} {'rows':>7} {'p50':>8} {'p95':>8} {'max':>8} {'CPU/req':>9} {'of it PG':>9}"
)


def row(read: Read, figures: dict) -> str:
    return (
        f"{read.label:<52} {figures['total']:>7} {figures['p50']:>6.1f}ms {figures['p95']:>6.1f}ms "
        f"{figures['max']:>6.1f}ms {figures['cpu']:>7.1f}ms {figures['postgres']:>7.1f}ms"
    )


def report_ledger_and_export(env: dict[str, str], session: requests.Session, gateway: str, base: int) -> None:
    """Print ``check_stock_ledger``'s wall time, then the export's size, time and serving worker's memory."""
    wall, last = check_ledger(env)
    print(f"\ncheck_stock_ledger: {wall:.1f} s wall ({last})")
    export = export_items(session, gateway, inventory_worker(base))
    print(
        f"GET /items/export: {export['rows']} rows, {export['mib']:.1f} MiB in {export['wall']:.1f} s; "
        f"inventory worker RSS before {export['before']:.0f} MiB, peak during {export['peak']:.0f} MiB "
        f"(+{export['peak'] - export['before']:.1f} MiB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=100, help="requests per read, one at a time")
    parser.add_argument("--port-base", type=int, default=27800)
    parser.add_argument("--keep", action="store_true", help="keep the databases, broker names and data dir")
    parser.add_argument("--reuse", action="store_true", help="skip the seed if a kept run's databases hold it")
    parser.add_argument("--explain", action="store_true", help="also print each read's query plans at scale")
    args = parser.parse_args()

    db_prefix = f"{os.environ.get('ERP_DB_PREFIX', 'erp_')}scale_"
    base = args.port_base
    # One gunicorn worker of two threads per service: the reads are one at a time, the export's worker is known.
    os.environ.setdefault("GUNICORN_WORKERS", "1")
    os.environ.setdefault("GUNICORN_THREADS", "2")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    env = platform_env(DATA_DIR, base, db_prefix, EVENTS_PREFIX)
    reuse = args.reuse and seeded(db_prefix, args)
    if not reuse:  # a seed starts from empty databases, whatever a kept run left
        cleanup(db_prefix, EVENTS_PREFIX)
    process = None
    try:
        process = start_platform(DATA_DIR, base, db_prefix, EVENTS_PREFIX, timeout=900)
        gateway = f"http://127.0.0.1:{base}"
        email, password = demo_user("admin")
        login = requests.post(f"{gateway}/api/auth/login", json={"email": email, "password": password}, timeout=30)
        token = login.json()["data"]["access_token"]
        if not reuse:
            seed_inventory(db_prefix, f"http://127.0.0.1:{base + OFFSETS['inventory']}", token, args)
            seed_sales(db_prefix, args)

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        load_before = os.getloadavg()
        reads = item_reads(db_prefix) + sales_reads(args)
        print(f"\n{args.samples} requests per read, one at a time, {WARM_UP} warm-ups not counted\n{HEADER}")
        groups = web_groups(base)
        for read in reads:
            print(row(read, measure(session, gateway, read, args.samples, groups, db_prefix)), flush=True)
        report_ledger_and_export(env, session, gateway, base)
        load_after = os.getloadavg()
        if args.explain:
            explain(env, reads)
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} CPUs)")
        return 0
    finally:
        if process is not None:
            stop_platform(process)
        if not args.keep:
            cleanup(db_prefix, EVENTS_PREFIX)
            shutil.rmtree(DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
