"""Benchmark the back office's home: ``GET /admin/`` rendered for a signed-in person, p50/p95 and CPU per render.

Starts the local run (scripts/run.py) on PostgreSQL + RabbitMQ with databases and broker names
of its own (``<ERP_DB_PREFIX>bh<tag>_*``, removed afterwards) on spare ports, then seeds:

- ``--items`` items (100,000) through their bulk path, ``POST /items/import`` of CSV files
  (10,000 rows each, sent to inventory_svc itself: the gateway bounds an import's time), each
  with opening stock, about a twentieth of them at or below their reorder level;
- 2,000 open backorders of those items (inventory's shell, ``bulk_create``);
- ``--orders`` sales orders (100,000) of one line each, confirmed over the last 90 days, 50 of
  them still pending, and as many purchase orders, half of them received (one receipt each, over
  the last 90 days), 40 of them replenishment drafts of 40 vendors (each service's shell,
  ``bulk_create``: there is no bulk order API, and the order path is bench/orders.py's).

Then it signs in as the demo admin at the sign-in page (the admin sees every panel: every summary
is asked), checks the page shows every panel with its figures, and renders the home
``--renders`` times one after another (10 warm-ups not counted). Reported: p50/p95/max of the
render, and the CPU per render of the processes it takes: the gateway, auth_svc (the session's
token), inventory, sales and purchase web servers (gunicorn master and workers, /proc) and their
PostgreSQL backends. The first render after seeding is reported apart (cold caches). Each service runs one
gunicorn worker of two threads (``GUNICORN_WORKERS``/``GUNICORN_THREADS`` override it): the renders come one at
a time, and PostgreSQL's connections are shared.

Usage: .venv/bin/python bench/home.py [--items 100000] [--orders 100000] [--renders 200] [--port-base 27700]
Needs the local PostgreSQL and RabbitMQ (ERP_BENCH_POSTGRES_URL / ERP_BENCH_BROKER_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from gateway_bench import group_cpu_seconds
from imports import postgres_backends_cpu
from orders import PG_SERVER, cleanup, platform_env, start_platform, stop_platform

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run import SERVICES, demo_user  # noqa: E402 (scripts/ is not a package)

WARM_UP = 10
IMPORT_CHUNK = 10_000
PANELS = ("reorder", "backorders", "stuck", "dead_letters", "sales_chart", "receipts_chart", "replenishment")
WEB = ("gateway", "auth", "inventory", "sales", "purchase")

INVENTORY_SEED = """
import datetime as dt, json, random, uuid
from django.utils import timezone
from inventory.models import Backorder, Item, Stock
rng = random.Random(25)
ids = list(Item.objects.values_list("id", flat=True)[:2000])
now = timezone.now()
Backorder.objects.bulk_create(
    [Backorder(order_id=uuid.uuid4(), item_id=item_id, quantity=3, quantity_open=rng.randint(1, 3),
               confirmed_at=now - dt.timedelta(minutes=rng.randint(5, 60 * 24 * 20))) for item_id in ids],
    batch_size=2000)
print(json.dumps(Backorder.objects.count()))
"""

SALES_SEED = """
import datetime as dt, json, random, uuid
from decimal import Decimal
from django.utils import timezone
from sales.models import SalesOrder, SalesOrderLine
rng = random.Random(26)
now = timezone.now()
customers = [(uuid.uuid4(), f"Bench customer {n}") for n in range(200)]
for start in range(0, ORDERS, 5000):
    orders = []
    for n in range(start, min(start + 5000, ORDERS)):
        customer_id, name = customers[n % len(customers)]
        pending = n < 50
        orders.append(SalesOrder(
            customer_id=customer_id, customer_name=name, status="Confirmed" if n % 3 else "Paid",
            stock_status="pending" if pending else "issued", total_amount=Decimal(rng.randint(100, 99999)) / 100,
            confirmed_at=now - dt.timedelta(minutes=10 + rng.randint(0, 60 * 24 * 90))))
    SalesOrder.objects.bulk_create(orders, batch_size=5000)
    SalesOrderLine.objects.bulk_create([
        SalesOrderLine(order=order, position=0, item_id=uuid.uuid4(), sku="BENCH", name="Bench", quantity=1,
                       unit_price=order.total_amount, subtotal=order.total_amount) for order in orders],
    batch_size=5000)
print(json.dumps(SalesOrder.objects.count()))
"""

PURCHASE_SEED = """
import datetime as dt, json, random, uuid
from decimal import Decimal
from django.utils import timezone
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt, PurchaseReceiptLine
rng = random.Random(27)
now = timezone.now()
vendors = [(uuid.uuid4(), f"Bench vendor {n}") for n in range(40)]
for start in range(0, ORDERS, 5000):
    orders, receipts = [], []
    for n in range(start, min(start + 5000, ORDERS)):
        vendor_id, name = vendors[n % len(vendors)]
        draft = n < len(vendors)
        received = not draft and n % 2 == 0
        orders.append(PurchaseOrder(
            vendor_id=vendor_id, vendor_name=name, total_amount=Decimal(rng.randint(100, 99999)) / 100,
            status="Draft" if draft else ("Received" if received else "Cancelled"),
            origin="replenishment" if draft else "manual",
            received_at=now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 90)) if received else None))
    PurchaseOrder.objects.bulk_create(orders, batch_size=5000)
    lines = [PurchaseOrderLine(order=order, position=0, item_id=uuid.uuid4(), sku="BENCH", name="Bench", quantity=4,
                               unit_price=order.total_amount / 4, subtotal=order.total_amount,
                               quantity_received=4 if order.status == "Received" else 0) for order in orders]
    PurchaseOrderLine.objects.bulk_create(lines, batch_size=5000)
    receipts = [PurchaseReceipt(order=order, actor="bench", created_at=order.received_at)
                for order in orders if order.status == "Received"]
    PurchaseReceipt.objects.bulk_create(receipts, batch_size=5000)
    PurchaseReceiptLine.objects.bulk_create([
        PurchaseReceiptLine(receipt=receipt, line=line, item_id=line.item_id, quantity=4)
        for receipt, line in zip(receipts, [line for line in lines if line.quantity_received], strict=True)],
        batch_size=5000)
print(json.dumps(PurchaseOrder.objects.count()))
"""


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def items_csv(first: int, rows: int, rng: random.Random) -> bytes:
    lines = ["sku,name,unit_price,reorder_level,quantity"]
    for n in range(first, first + rows):
        # A twentieth at or below their level (what staff buy next); the rest well above it.
        level = rng.randint(5, 20)
        quantity = rng.randint(0, level) if n % 20 == 0 else rng.randint(level + 1, 500)
        lines.append(f"HOME-{n:06d},Home bench item {n},{rng.randint(1, 99999) / 100:.2f},{level},{quantity}")
    return ("\r\n".join(lines) + "\r\n").encode()


def import_items(inventory: str, token: str, count: int) -> None:
    """Import ``count`` items with opening stock through ``POST /items/import``, :data:`IMPORT_CHUNK` rows a file.

    Sent to inventory_svc itself (``inventory`` is its base URL): the gateway bounds an import's time.
    """
    rng = random.Random(25)
    for first in range(0, count, IMPORT_CHUNK):
        rows = min(IMPORT_CHUNK, count - first)
        answer = requests.post(
            f"{inventory}/items/import",
            data=items_csv(first, rows, rng),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
            timeout=600,
        )
        if answer.status_code != 200:
            raise SystemExit(f"import refused: {answer.status_code} {answer.text[:500]}")


def run_manage(env: dict[str, str], service: str, snippet: str) -> str:
    """Run ``snippet`` in ``service``'s shell; return the last line it printed."""
    return manage(env, service, "shell", "-c", snippet).splitlines()[-1]


def manage(env: dict[str, str], service: str, *args: str) -> str:
    """Run a manage.py command of ``service`` with the local run's environment; its output, or stop the bench."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run.py"), "manage", service, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{service} {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def sign_in(gateway: str, email: str, password: str) -> requests.Session:
    """Sign in at auth_svc's sign-in page through the gateway, as a browser does; return the browser's session."""
    session = requests.Session()
    page = session.get(f"{gateway}/admin/auth/sso/signin/?next=/admin/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{gateway}/admin/auth/sso/signin/",
        data={"csrfmiddlewaretoken": token, "email": email, "password": password, "next": "/admin/"},
        headers={"Referer": f"{gateway}/admin/auth/sso/signin/"},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in refused: {answer.status_code} {answer.text[:300]}")
    return session


def web_groups(base: int) -> dict[str, int]:
    """The process group of each web server (its gunicorn master's pid), by the port it is bound to."""
    ports = {"gateway": base, **{s.name: base + s.port_offset for s in SERVICES if s.name in WEB}}
    groups = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        for name, port in ports.items():
            if "gunicorn" in command and f"127.0.0.1:{port} " in f"{command} " and name not in groups:
                groups[name] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[2])
    return groups


def cpu_now(groups: dict[str, int], db_prefix: str) -> dict[str, float]:
    """CPU seconds so far of each web server (its process group) and of each PostgreSQL backend of their databases.

    A backend is ``postgres <pid>``: the services close their connections after a while (CONN_MAX_AGE),
    and a total over the backends of the moment would lose a closed one's whole CPU (:func:`cpu_spent`).
    """
    used = {name: sum(group_cpu_seconds(pgid)) for name, pgid in groups.items()}
    server = f"{PG_SERVER}/postgres"
    for database in (f"{db_prefix}{name}" for name in WEB if name != "gateway"):  # the gateway has none
        used |= {f"postgres {pid}": seconds for pid, seconds in postgres_backends_cpu(server, database).items()}
    return used


def cpu_spent(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    """CPU milliseconds per request of each web server and of PostgreSQL between two :func:`cpu_now`.

    A backend opened in between counts whole; one closed in between is lost (an undercount, never below zero).
    """
    spent: dict[str, float] = {}
    for key, seconds in after.items():
        kind = key.split()[0]
        spent[kind] = spent.get(kind, 0.0) + (seconds - before.get(key, 0.0)) / count * 1000
    return spent


def timed_gets(
    session: requests.Session, url: str, *, count: int, groups: dict[str, int], db_prefix: str
) -> tuple[list[float], dict[str, float], requests.Response]:
    """GET ``url`` :data:`WARM_UP` + ``count`` times, one after another; an answer other than 200 stops the bench.

    Returns each GET's seconds (the warm-ups first), the CPU milliseconds per counted GET of each web
    server and of their PostgreSQL backends (:func:`cpu_now`), and the first answer.
    """
    timings, first = [], None
    for index in range(WARM_UP + count):
        if index == WARM_UP:
            before = cpu_now(groups, db_prefix)
        began = time.perf_counter()
        answer = session.get(url, timeout=30)
        timings.append(time.perf_counter() - began)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:300]}")
        if first is None:
            first = answer
    after = cpu_now(groups, db_prefix)
    return timings, cpu_spent(before, after, count), first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--port-base", type=int, default=27700)
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:6]
    db_prefix = f"{os.environ.get('ERP_DB_PREFIX', 'erp_')}bh{tag}_"
    events_prefix = f"bh{tag}."
    data_dir = Path(tempfile.mkdtemp(prefix="bench-home-"))
    base = args.port_base
    # One gunicorn worker of two threads per service: the renders are one at a time, and PostgreSQL's
    # connections are shared (the default 2 x 4 holds some 55 of them for this run alone).
    os.environ.setdefault("GUNICORN_WORKERS", "1")
    os.environ.setdefault("GUNICORN_THREADS", "2")
    env = platform_env(data_dir, base, db_prefix, events_prefix)
    process = None
    try:
        # A shared machine may take minutes to migrate and start six services: not what is measured.
        process = start_platform(data_dir, base, db_prefix, events_prefix, timeout=900)
        gateway = f"http://127.0.0.1:{base}"
        inventory = f"http://127.0.0.1:{base + next(s.port_offset for s in SERVICES if s.name == 'inventory')}"
        admin_email, admin_password = demo_user("admin")
        login = requests.post(
            f"{gateway}/api/auth/login", json={"email": admin_email, "password": admin_password}, timeout=30
        )
        token = login.json()["data"]["access_token"]

        started = time.monotonic()
        import_items(inventory, token, args.items)
        print(f"seeded {args.items} items by import in {time.monotonic() - started:.0f} s", flush=True)
        started = time.monotonic()
        backorders = run_manage(env, "inventory", INVENTORY_SEED)
        sales = run_manage(env, "sales", SALES_SEED.replace("ORDERS", str(args.orders)))
        purchase = run_manage(env, "purchase", PURCHASE_SEED.replace("ORDERS", str(args.orders)))
        print(
            f"seeded {backorders} backorders, {sales} sales orders, {purchase} purchase orders "
            f"in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        for service in ("inventory", "sales", "purchase"):
            run_manage(
                env, service, "from django.db import connection; connection.cursor().execute('ANALYZE'); print(1)"
            )

        # As a browser: on the public host (the back office sends any other there, its cookies with it).
        public = f"http://localhost:{base}"
        browser = sign_in(public, admin_email, admin_password)
        timings, per_render, page = timed_gets(
            browser, f"{public}/admin/", count=args.renders, groups=web_groups(base), db_prefix=db_prefix
        )
        first, timings = timings[0], timings[WARM_UP:]
        missing = [key for key in PANELS if f'id="panel-{key}"' not in page.text]
        down = re.findall(r'<p class="down"[^>]*>([^<]+)<', page.text)
        if missing or down:
            raise SystemExit(f"panels missing {missing} or down {down}")
        shown = re.search(r'id="reorder-count"[^>]*>([^<]+)<', page.text).group(1)
        print(f"home shows {shown} items at or below their reorder level", flush=True)

        report = {
            "items": args.items,
            "sales_orders": int(json.loads(sales)),
            "purchase_orders": int(json.loads(purchase)),
            "renders": args.renders,
            "first_ms": round(first * 1000, 1),
            "p50_ms": round(statistics.median(timings) * 1000, 1),
            "p95_ms": round(percentile(timings, 95) * 1000, 1),
            "max_ms": round(max(timings) * 1000, 1),
            "cpu_ms_per_render": {name: round(value, 2) for name, value in per_render.items()},
            "cpu_ms_per_render_total": round(sum(per_render.values()), 2),
        }
        print(json.dumps(report, indent=2))
        return 0 if report["p95_ms"] <= 300 else 1
    finally:
        if process is not None:
            stop_platform(process)
        cleanup(db_prefix, events_prefix)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
