"""CPU per availability check: inventory's ``stock_availability``, this process and its PostgreSQL backend.

The question sales asks at every confirm (``POST /internal/stock/availability``), asked of
inventory's selector directly, in this process set up as inventory_svc is deployed (DEBUG off,
bench/receipts.py ``production_env``) on a database of its own, one item stocked:

- ``no pending``: the order's lines only (sales has no confirmed order waiting for inventory);
- ``pending``: with the lines of 5 orders sales confirmed and has not heard back about, 2 of them
  decided by inventory already (what a confirm sends while others are on their way);
- ``varied``: 1 to 8 items and 0 to 5 pending orders, a different pair at each check (48 pairs), as orders
  come: a statement whose text depends on them is prepared again for each (psycopg keeps 100 per
  connection, and prepares a text on its sixth run).

Per check: this process's CPU (``time.process_time``) and its backend's (``/proc/<pid>/stat`` of
``pg_backend_pid()``), ``--checks`` checks, ``--rounds`` rounds, the two kinds alternated. The web
request around it (gunicorn, middleware, DRF) is the same whatever the selector does.

Usage: .venv/bin/python bench/availability.py [--checks 2000] [--rounds 3]
Needs PostgreSQL at ERP_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from processes import cpu_seconds  # noqa: E402 (bench/ is not a package)
from receipts import INVENTORY, ensure_database, manage, production_env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server = os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    database = ensure_database(server, f"{os.environ.get('ERP_DB_PREFIX', 'erp_')}bench_availability")
    env = production_env("inventory", DATABASE_URL=database)
    manage(INVENTORY, env, "migrate", "--verbosity", "0")
    os.environ.update(env)
    sys.path.insert(0, str(INVENTORY))
    import django

    django.setup()
    from django.db import connection
    from inventory.lines import PendingLine, StockLine
    from inventory.models import IssueOutcome, Item, SalesOrderIssue, Stock
    from inventory.selectors import stock_availability

    Item.objects.filter(sku__startswith="BENCH-AVAILABILITY").delete()
    items = [Item.objects.create(sku=f"BENCH-AVAILABILITY-{n}", name="Bench unit", unit_price=1) for n in range(8)]
    for each in items:
        Stock.objects.update_or_create(item=each, defaults={"quantity": 1_000})
    item = items[0]
    orders = [uuid.uuid4() for _ in range(5)]
    for order_id in orders[:2]:
        SalesOrderIssue.objects.create(order_id=order_id, outcome=IssueOutcome.ISSUED)
    lines = [StockLine(item.pk, 1)]
    varied = [
        {
            "lines": [StockLine(each.pk, 1) for each in items[:count]],
            "pending": [PendingLine(order_id, item.pk, 2) for order_id in orders[:waiting]],
        }
        for count in range(1, 9)
        for waiting in range(6)
    ]
    kinds = {
        "no pending": lambda check: {"lines": lines},
        "pending": lambda check: {
            "lines": lines,
            "pending": [PendingLine(order_id, item.pk, 2) for order_id in orders],
        },
        "varied": lambda check: varied[check % len(varied)],
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    for kind in kinds.values():  # warm: prepared statements
        for check in range(100):
            stock_availability(**kind(check))

    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in kinds}
    for _ in range(args.rounds):
        for name, kind in kinds.items():
            mine, theirs = time.process_time(), cpu_seconds(backend)
            for check in range(args.checks):
                stock_availability(**kind(check))
            figures[name].append(
                ((time.process_time() - mine) * 1e6 / args.checks, (cpu_seconds(backend) - theirs) * 1e6 / args.checks)
            )
    Item.objects.filter(sku__startswith="BENCH-AVAILABILITY").delete()
    SalesOrderIssue.objects.filter(order_id__in=orders).delete()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"stock_availability, {args.checks} checks x {args.rounds} rounds (load {load}); per check:")
    for name, rounds in figures.items():
        process = statistics.median(mine for mine, _ in rounds)
        backend_cpu = statistics.median(theirs for _, theirs in rounds)
        both = " / ".join(f"{mine + theirs:.0f}" for mine, theirs in rounds)
        print(
            f"  {name:<11} this process {process:5.0f} us, PostgreSQL {backend_cpu:5.0f} us, "
            f"both {process + backend_cpu:5.0f} us ({both})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
