"""Benchmark the backorder paths: confirm -> stock visible, and receipt -> backorder filled, with CPU per operation.

``--path confirm`` (this process runs as sales_svc): ``sales_order_confirm`` of a
backorder-allowed order (the order and ``sales.order.confirmed`` v2 in the outbox, one
transaction; nothing asked of inventory) -> sales' ``relay_outbox`` -> RabbitMQ ->
inventory's ``consume_events`` (inbox + ``stock_issue_for_order``: the stock rows locked,
what is on hand issued, the rest backordered). The clock stops when a separate connection to
inventory's database sees the order's decision: what ``GET /items/{id}`` then shows.

``--path receipt`` (this process runs as purchase_svc): every item starts with nothing on
hand and a queue of backorder-allowed orders waiting; ``purchase_order_receipt_create`` ->
purchase's ``relay_outbox`` -> RabbitMQ -> ``consume_events`` (inbox +
``stock_receive_for_receipt``, which fills the queue, oldest first, in the same transaction).
The clock stops when the receipt's movement is visible, and with it the fills it made.

One operation at a time (latency), 10 warm-ups not counted. CPU per operation is the CPU
time the relay and the consumer processes spent over the measured operations (from
/proc), and this process's own for the producing service call. Afterwards
``check_stock_ledger`` and inventory's backorder invariants must hold. Private topology
and databases ``<ERP_DB_PREFIX>bench_{sales,purchase,inventory}``, as bench/receipts.py.
"""

from __future__ import annotations

import argparse
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

from receipts import (
    ORDERED,
    ensure_database,
    inventory_watcher,
    make_orders,
    manage,
    production_env,
    wait_visible,
    without_rechecks,
)

ROOT = Path(__file__).resolve().parents[1]
SALES, PURCHASE, INVENTORY = ROOT / "sales_svc", ROOT / "purchase_svc", ROOT / "inventory_svc"
WARM_UP = 10

# Items, each with ``STOCK`` on hand (confirm) or with ``WAITING`` orders of 10^6 waiting for it (receipt).
INVENTORY_SETUP = """
import datetime as dt, json, uuid
from decimal import Decimal
from common.events.models import InboxEvent, OutboxEvent
from inventory.lines import StockLine
from inventory.models import Backorder, Item, SalesOrderIssue, Stock, StockMovement
from inventory.services import item_create, stock_adjust, stock_issue_for_order
for model in (Backorder, StockMovement, SalesOrderIssue, Stock, Item, InboxEvent, OutboxEvent):
    model.objects.all().delete()
items = [item_create(sku=f"BO-{i:03d}", name=f"Bench {i}", unit_price=Decimal("5.00")) for i in range(COUNT)]
if STOCK:
    stock_adjust(changes={item.pk: STOCK for item in items}, actor="bench")
start = dt.datetime.now(dt.UTC)
for n in range(WAITING):
    for item in items:
        stock_issue_for_order(order_id=uuid.uuid4(), lines=[StockLine(item.pk, 10**6)], actor="bench",
                              allow_backorder=True, confirmed_at=start + dt.timedelta(seconds=n))
print(json.dumps([str(item.pk) for item in items]))
"""

INVENTORY_CHECK = """
import json
from inventory.models import StockMovement, SalesOrderIssue
from inventory.selectors import backorder_discrepancies, stock_ledger_discrepancies
print(json.dumps({
    "decisions": SalesOrderIssue.objects.count(),
    "fills": StockMovement.objects.filter(fill__isnull=False).count(),
    "receipts": StockMovement.objects.filter(reason="purchase_receipt").count(),
    "problems": len(stock_ledger_discrepancies()) + len(backorder_discrepancies()),
}))
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sales_draft(item_ids: list[str], rng: random.Random):
    """A backorder-allowed draft of 1-2 lines, written directly (the customer and items are the bench's own)."""
    from sales.models import SalesOrder, SalesOrderLine

    order = SalesOrder.objects.create(customer_id=uuid.uuid4(), customer_name="Bench", allow_backorder=True)
    for position, item_id in enumerate(rng.sample(item_ids, k=rng.randint(1, 2))):
        SalesOrderLine.objects.create(
            order=order,
            position=position,
            item_id=item_id,
            sku="BO",
            name="Bench",
            quantity=rng.randint(1, 3),
            unit_price=Decimal("5.00"),
            subtotal=Decimal("5.00"),
        )
    return order


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", choices=["confirm", "receipt"], required=True)
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--items", type=int, default=4)
    args = parser.parse_args()
    confirm = args.path == "confirm"
    producer_dir = SALES if confirm else PURCHASE

    url = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    server = os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    prefix = f"erpbench.{uuid.uuid4().hex[:8]}."
    db_prefix = os.environ.get("ERP_DB_PREFIX", "erp_")
    producer = "sales" if confirm else "purchase"
    producer_db = ensure_database(server, f"{db_prefix}bench_{producer}")
    inventory_db = ensure_database(server, f"{db_prefix}bench_inventory")
    producer_env = production_env(producer, DATABASE_URL=producer_db, ERP_EVENTS_PREFIX=prefix, BROKER_URL=url)
    inventory_env = production_env("inventory", DATABASE_URL=inventory_db, ERP_EVENTS_PREFIX=prefix, BROKER_URL=url)

    manage(INVENTORY, inventory_env, "migrate", "--verbosity", "0")
    operations = args.operations + WARM_UP
    # receipt: enough waiting per item that every receipt (at most 6 units) fills some
    setup = (
        INVENTORY_SETUP.replace("COUNT", str(args.items if confirm else 2 * args.items))
        .replace("STOCK", str(ORDERED) if confirm else "0")
        .replace("WAITING", "0" if confirm else "3")
    )
    item_ids = json.loads(manage(INVENTORY, inventory_env, "shell", "-c", setup))
    os.environ.update(producer_env)  # this process runs as the producing service
    sys.path.insert(0, str(producer_dir))
    import django

    django.setup()
    from django.core.management import call_command
    from kombu import Connection

    from common.events.models import OutboxEvent
    from common.events.topology import Topology

    call_command("migrate", verbosity=0)
    OutboxEvent.objects.all().delete()
    topology = Topology(prefix=prefix)
    with Connection(url) as conn:
        topology.declare(conn)
    workers = [
        subprocess.Popen([sys.executable, "manage.py", "relay_outbox"], cwd=producer_dir, env=producer_env),
        subprocess.Popen([sys.executable, "manage.py", "consume_events"], cwd=INVENTORY, env=inventory_env),
    ]
    print(f"backorders bench ({args.path}): {args.operations} operations one at a time, RabbitMQ + PostgreSQL")
    rng = random.Random(20)
    latencies: list[float] = []
    producer_cpu = 0.0
    try:
        with inventory_watcher(inventory_db) as watcher:
            if confirm:
                from sales import services
                from sales.services import sales_order_confirm

                without_rechecks(services)

                query = "SELECT 1 FROM inventory_salesorderissue WHERE order_id = %s"
                step = lambda: _confirm_one(sales_order_confirm, sales_draft(item_ids, rng))  # noqa: E731
            else:
                from purchasing import services
                from purchasing.receipts import ReceiptRequest
                from purchasing.services import purchase_order_receipt_create

                without_rechecks(services)

                orders = make_orders(item_ids, args.items)
                query = "SELECT 1 FROM inventory_stockmovement WHERE receipt_id = %s"
                step = lambda: _receive_one(purchase_order_receipt_create, ReceiptRequest, rng.choice(orders), rng)  # noqa: E731
            for index in range(operations):
                if index == WARM_UP:
                    workers_cpu = sum(cpu_seconds(worker.pid) for worker in workers)
                started_cpu = time.process_time()
                key = step()
                committed = time.perf_counter()
                if index >= WARM_UP:
                    producer_cpu += time.process_time() - started_cpu
                wait_visible(watcher, query, key)
                if index >= WARM_UP:
                    latencies.append((time.perf_counter() - committed) * 1000)
            workers_cpu = sum(cpu_seconds(worker.pid) for worker in workers) - workers_cpu
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        with Connection(url) as conn:
            topology.delete(conn)

    check = json.loads(manage(INVENTORY, inventory_env, "shell", "-c", INVENTORY_CHECK))
    # Every confirmation decided once; every receipt filled at least one waiting order (the queues never run dry).
    exact = check["problems"] == 0 and (check["decisions"] == operations if confirm else check["fills"] >= operations)
    latencies.sort()
    row = {
        "path": args.path,
        "operations": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        "max_ms": round(latencies[-1], 1),
        "cpu_ms_per_op_producer": round(1000 * producer_cpu / len(latencies), 2),
        "cpu_ms_per_op_relay_and_consumer": round(1000 * workers_cpu / len(latencies), 2),
        "fills": check["fills"],
        "invariants_hold": exact,
    }
    what = "confirm -> stock visible" if confirm else "receipt -> backorder filled"
    print(
        f"{what}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, max {row['max_ms']} ms over {row['operations']}; "
        f"CPU per operation {row['cpu_ms_per_op_producer']} ms producing + "
        f"{row['cpu_ms_per_op_relay_and_consumer']} ms relay and consumer; invariants hold: {exact}"
    )
    print(f"load average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
    out = Path(os.environ.get("ERP_DATA_DIR", ROOT / ".run")) / f"bench_backorders_{args.path}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row, indent=2))
    print(f"results written to {out}")
    return 0 if exact else 1


def _confirm_one(sales_order_confirm, order) -> uuid.UUID:
    sales_order_confirm(order_id=order.pk, actor="bench")
    return order.pk


def _receive_one(receipt_create, request_type, order, rng: random.Random) -> uuid.UUID:
    lines = list(order.lines.all())
    chosen = rng.sample(lines, k=rng.randint(1, len(lines)))
    requests = [request_type(item_id=line.item_id, quantity=rng.randint(1, 3)) for line in chosen]
    return receipt_create(order_id=order.pk, items=requests, actor="bench").pk


if __name__ == "__main__":
    sys.exit(main())
