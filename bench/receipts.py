"""Benchmark receipt -> stock visible: how long after a purchase receipt commits does inventory show its stock.

What is measured is the whole path a receipt takes in production, with each worker as its
own process: ``purchase_order_receipt_create`` (receipt, lines and ``purchase.order.received``
v2 in the outbox, one transaction) -> purchase_svc's ``relay_outbox`` (woken by the
commit's ``pg_notify``, publishes with confirms) -> RabbitMQ -> inventory_svc's
``consume_events`` (inbox row + ``stock_receive_for_receipt`` in one transaction, ack after
the commit). The clock starts when the receipt's transaction has committed and stops when
a separate connection to inventory's database sees the receipt's movement (polled every
millisecond): that is when ``GET /items/{id}/stock`` would show it.

Receipts are recorded one at a time (latency, not throughput), ``--receipts`` of them, each
of 1-3 units on one or two lines of a few open orders. After the run the stock and the
ledger are checked: every receipt moved stock exactly once, on hand == ledger.

Runs on a private topology (prefix ``erpbench.<random>.``, deleted afterwards) and its own
databases ``<ERP_DB_PREFIX>bench_purchase`` / ``bench_inventory`` on ERP_POSTGRES_URL.
This process runs as purchase_svc; inventory's setup and checks run as its own processes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURCHASE, INVENTORY = ROOT / "purchase_svc", ROOT / "inventory_svc"
ORDERED = 1_000_000

INVENTORY_SETUP = """
import json
from decimal import Decimal
from common.events.models import InboxEvent, OutboxEvent
from inventory.models import Backorder, Item, SalesOrderIssue, Stock, StockMovement
from inventory.services import item_create
# The database is bench/backorders.py's too: its waiting orders go first (they hold on to their items).
for model in (Backorder, StockMovement, SalesOrderIssue, Stock, Item, InboxEvent, OutboxEvent):
    model.objects.all().delete()
items = [item_create(sku=f"RCPT-{i:03d}", name=f"Bench {i}", unit_price=Decimal("5.00")) for i in range(COUNT)]
print(json.dumps([str(item.pk) for item in items]))
"""

INVENTORY_CHECK = """
import json
from inventory.models import Stock, StockMovement
from inventory.selectors import stock_ledger_discrepancies
print(json.dumps({
    "on_hand": {str(k): v for k, v in Stock.objects.values_list("item_id", "quantity")},
    "receipt_movements": StockMovement.objects.filter(reason="purchase_receipt").count(),
    "distinct_receipts": len(set(StockMovement.objects.values_list("receipt_id", flat=True)) - {None}),
    "ledger_discrepancies": len(stock_ledger_discrepancies()),
}))
"""


def production_env(service_name: str, **settings: str) -> dict[str, str]:
    """The environment of ``service_name`` in the local run (scripts/run.py: DEBUG off, its secrets), and ``settings``.

    The benches measure what is deployed: with DEBUG on, Django also records every query
    (its SQL formatted with the parameters), a cost of every statement that production does not pay.
    """
    sys.path.insert(0, str(ROOT / "scripts"))
    import run  # scripts/ is not a package

    folder = run.data_dir()  # ERP_DATA_DIR: the bench's secrets and keys are made there once
    service = next(service for service in run.SERVICES if service.name == service_name)
    env = run.service_env(service, run.base_env(folder), folder)
    return env | {"DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings", **settings}


@contextlib.contextmanager
def inventory_watcher(database_url: str):
    """An autocommit connection to inventory's database that hears its commits that write an event.

    It LISTENs on the channel that wakes inventory's relay (``common.events.conf.notify_channel``,
    notified by the commit of every transaction that writes to its outbox; this process runs with
    the same events prefix): see :func:`wait_visible`.
    """
    import psycopg
    from psycopg import sql

    from common.events import conf

    with psycopg.connect(database_url, autocommit=True) as watcher:
        watcher.execute(sql.SQL("LISTEN {}").format(sql.Identifier(conf.notify_channel())))
        yield watcher


def wait_visible(watcher, query: str, key, deadline_s: float = 30) -> None:
    """Return once ``query`` finds ``key`` in inventory's database (``watcher``: :func:`inventory_watcher`).

    Asked again when a commit there wrote an event (an order's decision always does: the clock
    then stops at that very commit, not up to a polling interval later), and every millisecond
    anyway (a receipt that fills nothing writes none).
    """
    deadline = time.perf_counter() + deadline_s
    while not watcher.execute(query, [key]).fetchone():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{key} never reached inventory")
        for _ in watcher.notifies(timeout=0.001, stop_after=1):
            pass


def ensure_database(server: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{server.rstrip('/')}/{name}"


def manage(service: Path, env: dict, *args: str) -> str:
    """Run a manage.py command of ``service``; return the last line it printed (the JSON of a shell snippet)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=service, env=env, capture_output=True, text=True, check=True
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def without_rechecks(services) -> None:
    """Let ``services`` (sales' or purchase's module) move stock without asking the other services first.

    Before its transaction, a confirmation or a receipt asks contact_svc whether the party still exists and
    inventory_svc whether the items do (``*_recheck``). No web server runs in these benches: the parties and
    items are their own, and the clock starts at the commit, after those calls.
    """
    for name in ("items_recheck", "customer_recheck", "vendor_recheck"):
        if hasattr(services, name):
            setattr(services, name, lambda **_: None)


def make_orders(item_ids: list[str], count: int) -> list:
    """Open orders of two lines each, written directly (the vendor and items are the bench's own)."""
    from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt, PurchaseReceiptLine

    from common.events.models import OutboxEvent

    for model in (PurchaseReceiptLine, PurchaseReceipt, PurchaseOrderLine, PurchaseOrder, OutboxEvent):
        model.objects.all().delete()
    orders = []
    for index in range(count):
        order = PurchaseOrder.objects.create(vendor_id=uuid.uuid4(), vendor_name="Bench vendor")
        for position, item_id in enumerate(item_ids[2 * index : 2 * index + 2]):
            PurchaseOrderLine.objects.create(
                order=order,
                position=position,
                item_id=item_id,
                sku=f"RCPT-{position}",
                name="Receipt bench",
                quantity=ORDERED,
                unit_price=Decimal("5.00"),
                subtotal=Decimal("5.00") * ORDERED,
            )
        orders.append(order)
    return orders


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=300)
    parser.add_argument("--orders", type=int, default=3)
    args = parser.parse_args()

    url = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    server = os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    prefix = f"erpbench.{uuid.uuid4().hex[:8]}."
    db_prefix = os.environ.get("ERP_DB_PREFIX", "erp_")
    purchase_db = ensure_database(server, f"{db_prefix}bench_purchase")
    inventory_db = ensure_database(server, f"{db_prefix}bench_inventory")
    purchase_env = production_env("purchase", DATABASE_URL=purchase_db, ERP_EVENTS_PREFIX=prefix, BROKER_URL=url)
    inventory_env = production_env("inventory", DATABASE_URL=inventory_db, ERP_EVENTS_PREFIX=prefix, BROKER_URL=url)

    manage(INVENTORY, inventory_env, "migrate", "--verbosity", "0")
    item_ids = json.loads(
        manage(INVENTORY, inventory_env, "shell", "-c", INVENTORY_SETUP.replace("COUNT", str(2 * args.orders)))
    )
    os.environ.update(purchase_env)  # this process runs as purchase_svc
    sys.path.insert(0, str(PURCHASE))
    import django

    django.setup()
    from django.core.management import call_command
    from kombu import Connection
    from purchasing import services
    from purchasing.receipts import ReceiptRequest
    from purchasing.services import purchase_order_receipt_create

    from common.events.topology import Topology

    without_rechecks(services)

    call_command("migrate", verbosity=0)
    topology = Topology(prefix=prefix)
    with Connection(url) as conn:
        topology.declare(conn)
    orders = make_orders(item_ids, args.orders)
    workers = [
        subprocess.Popen([sys.executable, "manage.py", "relay_outbox"], cwd=PURCHASE, env=purchase_env),
        subprocess.Popen([sys.executable, "manage.py", "consume_events"], cwd=INVENTORY, env=inventory_env),
    ]
    print(
        f"receipts bench: PostgreSQL {purchase_db.rsplit('/', 1)[-1]} + {inventory_db.rsplit('/', 1)[-1]}, "
        f"RabbitMQ {url.split('@')[-1]}, {args.receipts} receipts one at a time",
        flush=True,
    )
    rng = random.Random(19)
    latencies, expected = [], {item_id: 0 for item_id in item_ids}
    try:
        with inventory_watcher(inventory_db) as watcher:
            seen = "SELECT 1 FROM inventory_stockmovement WHERE receipt_id = %s LIMIT 1"
            for index in range(args.receipts + 10):  # the first 10 warm up the workers, not counted
                order = rng.choice(orders)
                lines = list(order.lines.all())
                chosen = rng.sample(lines, k=rng.randint(1, len(lines)))
                requests = [ReceiptRequest(item_id=line.item_id, quantity=rng.randint(1, 3)) for line in chosen]
                receipt = purchase_order_receipt_create(order_id=order.pk, items=requests, actor="bench")
                committed = time.perf_counter()
                wait_visible(watcher, seen, receipt.pk)
                if index >= 10:
                    latencies.append((time.perf_counter() - committed) * 1000)
                for request in requests:
                    expected[str(request.item_id)] += request.quantity
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        with Connection(url) as conn:
            topology.delete(conn)

    check = json.loads(manage(INVENTORY, inventory_env, "shell", "-c", INVENTORY_CHECK))
    exact = check["on_hand"] == expected and check["ledger_discrepancies"] == 0
    exact = exact and check["distinct_receipts"] == args.receipts + 10
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    row = {
        "receipts": len(latencies),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(latencies[-1], 1),
        "stock_exact": exact,
    }
    print(
        f"receipt -> stock visible: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, max {row['max_ms']} ms "
        f"over {row['receipts']} receipts; stock and ledger exact: {exact}"
    )
    print(f"load average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
    out = Path(os.environ.get("ERP_DATA_DIR", ROOT / ".run")) / "bench_receipts.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row, indent=2))
    print(f"results written to {out}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
