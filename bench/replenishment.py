"""Benchmark replenishment: low-stock event -> replenishment draft line, p50/p95 and CPU per operation.

This process runs as inventory_svc: each operation is a ``stock_adjust`` that takes one item
from 10 on hand to 4 (reorder level 5, max level 20), writing ``inventory.stock.low`` v2 in the
outbox in the same transaction -> inventory's ``relay_outbox`` -> RabbitMQ -> purchase's
``consume_events`` (inbox + ``replenishment_apply``: the item's row and the vendor's
replenishment draft locked, on order recomputed, the line written). The clock starts when the
adjustment has committed and stops when a separate connection to purchase's database sees the
item's line: what ``GET /api/purchase/orders?origin=replenishment`` then shows.

Every item has a preferred vendor item (pack 6, minimum 6) of one of ``--vendors`` vendors, so
the lines gather in that many drafts, each growing by one line per operation. One operation at
a time (latency), 10 warm-ups not counted. CPU per operation: the relay's and the consumer's
(from /proc) and this process's own for the adjustment. Afterwards every line must be 18
(20 - 4 = 16, in packs of 6), one draft per vendor, and ``check_replenishment`` must pass.
Private topology and databases ``<ERP_DB_PREFIX>bench_{inventory,purchase}``, as bench/receipts.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from backorders import cpu_seconds, wait_visible
from receipts import ensure_database, manage

ROOT = Path(__file__).resolve().parents[1]
PURCHASE, INVENTORY = ROOT / "purchase_svc", ROOT / "inventory_svc"
WARM_UP = 10

PURCHASE_SETUP = """
import json, uuid
from decimal import Decimal
from common.events.models import InboxEvent, OutboxEvent
from purchasing.models import LowStockItem, PurchaseOrder, PurchaseOrderLine, VendorItem
for model in (PurchaseOrderLine, PurchaseOrder, VendorItem, LowStockItem, InboxEvent, OutboxEvent):
    model.objects.all().delete()
vendors = [uuid.uuid4() for _ in range(VENDORS)]
VendorItem.objects.bulk_create(
    VendorItem(vendor_id=vendors[n % len(vendors)], vendor_name=f"Bench vendor {n % len(vendors)}", item_id=item_id,
               sku=f"RP-{n:04d}", item_name="Bench", unit_cost=Decimal("1.50"), pack_size=6, min_order_quantity=6,
               preferred=True)
    for n, item_id in enumerate(ITEMS)
)
print(json.dumps(len(vendors)))
"""

PURCHASE_CHECK = """
import json
from django.db.models import Count
from purchasing.models import PurchaseOrder, PurchaseOrderLine
from purchasing.selectors import replenishment_discrepancies
print(json.dumps({
    "drafts": PurchaseOrder.objects.filter(origin="replenishment", status="Draft").count(),
    "lines": PurchaseOrderLine.objects.count(),
    "quantities": sorted(set(PurchaseOrderLine.objects.values_list("quantity", flat=True))),
    "problems": len(replenishment_discrepancies()),
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--vendors", type=int, default=4)
    args = parser.parse_args()

    url = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    server = os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    prefix = f"erpbench.{uuid.uuid4().hex[:8]}."
    db_prefix = os.environ.get("ERP_DB_PREFIX", "erp_")
    inventory_db = ensure_database(server, f"{db_prefix}bench_inventory")
    purchase_db = ensure_database(server, f"{db_prefix}bench_purchase")
    base = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", ERP_EVENTS_PREFIX=prefix, BROKER_URL=url)
    inventory_env, purchase_env = dict(base, DATABASE_URL=inventory_db), dict(base, DATABASE_URL=purchase_db)
    operations = args.operations + WARM_UP

    os.environ.update({k: inventory_env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ERP_EVENTS_PREFIX")})
    sys.path.insert(0, str(INVENTORY))
    import django

    django.setup()
    import psycopg
    from django.core.management import call_command
    from inventory.models import Backorder, Item, SalesOrderIssue, Stock, StockMovement
    from inventory.services import item_create, stock_adjust
    from kombu import Connection

    from common.events.models import InboxEvent, OutboxEvent
    from common.events.topology import Topology

    call_command("migrate", verbosity=0)
    for model in (Backorder, StockMovement, SalesOrderIssue, Stock, Item, InboxEvent, OutboxEvent):
        model.objects.all().delete()
    items = [
        item_create(sku=f"RP-{n:04d}", name="Bench", unit_price=1, reorder_level=5, max_level=20)
        for n in range(operations)
    ]
    stock_adjust(changes={item.pk: 10 for item in items}, actor="bench")  # a rise: no low-stock event
    manage(PURCHASE, purchase_env, "migrate", "--verbosity", "0")
    item_ids = json.dumps([str(item.pk) for item in items])
    setup = PURCHASE_SETUP.replace("VENDORS", str(args.vendors)).replace("ITEMS", f"json.loads('{item_ids}')")
    manage(PURCHASE, purchase_env, "shell", "-c", setup)

    topology = Topology(prefix=prefix)
    with Connection(url) as conn:
        topology.declare(conn)
    workers = [
        subprocess.Popen([sys.executable, "manage.py", "relay_outbox"], cwd=INVENTORY, env=inventory_env),
        subprocess.Popen([sys.executable, "manage.py", "consume_events"], cwd=PURCHASE, env=purchase_env),
    ]
    print(f"replenishment bench: {args.operations} low-stock events one at a time, {args.vendors} vendors")
    latencies: list[float] = []
    producer_cpu = 0.0
    query = "SELECT 1 FROM purchasing_purchaseorderline WHERE item_id = %s"
    try:
        with psycopg.connect(purchase_db, autocommit=True) as watcher:
            for index, item in enumerate(items):
                if index == WARM_UP:
                    workers_cpu = sum(cpu_seconds(worker.pid) for worker in workers)
                started_cpu = time.process_time()
                stock_adjust(changes={item.pk: -6}, actor="bench")
                committed = time.perf_counter()
                if index >= WARM_UP:
                    producer_cpu += time.process_time() - started_cpu
                wait_visible(watcher, query, item.pk)
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

    check = json.loads(manage(PURCHASE, purchase_env, "shell", "-c", PURCHASE_CHECK))
    exact = (
        check["problems"] == 0
        and check["drafts"] == args.vendors
        and check["lines"] == operations
        and check["quantities"] == [18]
    )
    latencies.sort()
    row = {
        "operations": len(latencies),
        "vendors": args.vendors,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        "max_ms": round(latencies[-1], 1),
        "cpu_ms_per_op_producer": round(1000 * producer_cpu / len(latencies), 2),
        "cpu_ms_per_op_relay_and_consumer": round(1000 * workers_cpu / len(latencies), 2),
        **check,
        "invariants_hold": exact,
    }
    print(
        f"low-stock event -> draft line: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, max {row['max_ms']} ms "
        f"over {row['operations']}; CPU per operation {row['cpu_ms_per_op_producer']} ms producing + "
        f"{row['cpu_ms_per_op_relay_and_consumer']} ms relay and consumer; {check['drafts']} drafts, "
        f"{check['lines']} lines; invariants hold: {exact}"
    )
    print(f"load average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
    out = Path(os.environ.get("ERP_DATA_DIR", ROOT / ".run")) / "bench_replenishment.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row, indent=2))
    print(f"results written to {out}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
