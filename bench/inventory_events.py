"""Benchmark inventory's handling of ``sales.order.confirmed``: issue events handled per second.

What is measured is the whole consuming path of inventory_svc, as it runs in
production: RabbitMQ -> ``manage.py consume_events`` (inbox row + handler in one
transaction, ack after the commit) -> ``stock_issue_for_order`` (stock rows locked in
item order, movements and quantities written, ``inventory.stock.issued`` to the outbox).

Each run: fresh items with ample stock, ``--events`` confirmed orders of 1-3 lines on
random items published to the queue while no consumer runs, then 1 or 2 consumer
processes started on the same queue (competing consumers). The rate is taken from the
inbox: events handled between the first and the last commit, so process start-up is
not counted. After each run the ledger is checked: stock on hand equals the sum of
movements for every item, every line was issued once, and nothing was dead-lettered.

Runs on a private topology (prefix ``erpbench.<random>.``, deleted afterwards) and its
own database ``<ERP_DB_PREFIX>bench_inventory`` on ERP_POSTGRES_URL (created if missing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "inventory_svc"
OPENING_STOCK = 1_000_000


def ensure_database(server: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{server.rstrip('/')}/{name}"


def reset_and_make_items(count: int) -> list:
    """Empty the inventory tables and make ``count`` items with ample stock (through the services)."""
    from inventory.models import Item, SalesOrderIssue, Stock, StockMovement
    from inventory.services import item_create, stock_adjust

    from common.events.models import InboxEvent, OutboxEvent

    for model in (StockMovement, SalesOrderIssue, Stock, Item, InboxEvent, OutboxEvent):
        model.objects.all().delete()
    items = [
        item_create(sku=f"BENCH-{index:04d}", name=f"Bench item {index}", unit_price=Decimal("5.00"))
        for index in range(count)
    ]
    stock_adjust(changes={item.pk: OPENING_STOCK for item in items}, actor="bench")
    return items


def one_to_three_items(rng: random.Random, items: list) -> list:
    """An order's items: 1-3 distinct ones (one movement per line), at random."""
    return rng.sample(items, k=rng.randint(1, 3))


def publish_orders(
    url: str, topology, items: list, count: int, rng: random.Random, pick=one_to_three_items
) -> tuple[dict, int]:
    """Publish ``count`` confirmed orders as sales' relay would; return the units asked per item, and the lines.

    ``pick(rng, items)`` chooses each order's items.
    """
    from kombu import Connection, Producer

    from common.events import envelope, registry

    asked: dict = {}
    lines_total = 0
    with Connection(url, transport_options={"confirm_publish": True}) as conn:
        topology.declare(conn)
        producer = Producer(conn.default_channel)
        for _ in range(count):
            lines = []
            for item in pick(rng, items):
                lines_total += 1
                quantity = rng.randint(1, 3)
                asked[item.pk] = asked.get(item.pk, 0) + quantity
                subtotal = Decimal("5.00") * quantity
                lines.append(
                    {"item_id": item.pk, "quantity": quantity, "unit_price": Decimal("5.00"), "subtotal": subtotal}
                )
            data = {
                "order_id": uuid.uuid4(),
                "customer_id": uuid.uuid4(),
                "total_amount": sum(line["subtotal"] for line in lines),
                "items": lines,
            }
            _, body = envelope.build(
                registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id=data["order_id"], aggregate_version=1
            )
            producer.publish(
                body.encode(),
                exchange=topology.exchange,
                routing_key=registry.SALES_ORDER_CONFIRMED.name,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )
    return asked, lines_total


def consume_queued(*, consumers: int, events: int, env: dict, timeout: float = 600, started=None) -> float:
    """Start ``consumers`` ``consume_events`` processes, stop them once the inbox holds ``events``; their CPU seconds.

    The CPU is the processes' user + system time, start-up included. ``started(pids)``, if
    given, is called with the processes' ids once they are started.
    """
    from common.events.models import InboxEvent

    cpu_before = _children_cpu()
    procs = [
        subprocess.Popen([sys.executable, "manage.py", "consume_events"], cwd=SERVICE, env=env)
        for _ in range(consumers)
    ]
    if started is not None:
        started([proc.pid for proc in procs])
    try:
        deadline = time.monotonic() + timeout
        while InboxEvent.objects.count() < events and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
    return _children_cpu() - cpu_before


def handled_and_seconds() -> tuple[int, float]:
    """Events in the inbox, and the seconds from the first inbox commit to the last."""
    from django.db.models import Max, Min

    from common.events.models import InboxEvent

    span = InboxEvent.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0
    return InboxEvent.objects.count(), seconds


def ledger_exact(*, items: list, asked: dict, lines_total: int, events: int, url: str, topology) -> bool:
    """Every event handled, stock == sum of movements, every line issued once, nothing dead-lettered."""
    from inventory.models import Stock, StockMovement
    from inventory.selectors import stock_ledger_discrepancies

    from common.events.models import InboxEvent
    from erp_testkit.broker import queue_depth

    on_hand = dict(Stock.objects.values_list("item_id", "quantity"))
    return (
        InboxEvent.objects.count() == events
        and stock_ledger_discrepancies() == []
        and all(on_hand[item.pk] == OPENING_STOCK - asked.get(item.pk, 0) for item in items)
        and StockMovement.objects.filter(reason="sales_issue").count() == lines_total
        and queue_depth(url, topology.dlq_name("inventory")) == 0
    )


def run(*, consumers: int, events: int, items_count: int, env: dict, url: str, topology, seed: int) -> dict:
    items = reset_and_make_items(items_count)
    asked, lines_total = publish_orders(url, topology, items, events, random.Random(seed))
    cpu_seconds = consume_queued(consumers=consumers, events=events, env=env)
    handled, seconds = handled_and_seconds()
    exact = ledger_exact(items=items, asked=asked, lines_total=lines_total, events=events, url=url, topology=topology)
    row = {
        "consumers": consumers,
        "events": events,
        "items": items_count,
        "handled": handled,
        "seconds": round(seconds, 3),
        "events_per_s": round((handled - 1) / seconds) if seconds else 0,
        "consumer_cpu_ms_per_event": round(cpu_seconds * 1000 / max(handled, 1), 2),
        "ledger_exact": exact,
    }
    print(
        f"{consumers} consumer process(es): {row['handled']} issue events in {row['seconds']:.2f} s = "
        f"{row['events_per_s']} events/s ({row['consumer_cpu_ms_per_event']} ms consumer CPU per event); "
        f"ledger exact: {exact}",
        flush=True,
    )
    return row


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_environment() -> tuple[str, dict, object]:
    """Set up Django on the bench database and a private topology.

    Returns the broker URL, the environment of the consumer processes, and the topology.
    """
    url = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    prefix = f"erpbench.{uuid.uuid4().hex[:8]}."
    database = ensure_database(
        os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        f"{os.environ.get('ERP_DB_PREFIX', 'erp_')}bench_inventory",
    )
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database, DJANGO_SETTINGS_MODULE="config.settings", ERP_EVENTS_PREFIX=prefix, BROKER_URL=url
    )
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ERP_EVENTS_PREFIX")})
    sys.path.insert(0, str(SERVICE))
    import django

    django.setup()
    from django.core.management import call_command

    from common.events.topology import Topology

    call_command("migrate", verbosity=0)
    return url, env, Topology(prefix=prefix)


def topology_delete(url: str, topology) -> None:
    from kombu import Connection

    with Connection(url) as conn:
        topology.delete(conn)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--items", type=int, default=50, help="fewer items: more lock contention")
    parser.add_argument("--rounds", type=int, default=2, help="runs per consumer count (alternating)")
    args = parser.parse_args()

    url, env, topology = bench_environment()
    database = env["DATABASE_URL"]
    print(
        f"inventory events bench: PostgreSQL {database.rsplit('/', 1)[-1]}, RabbitMQ {url.split('@')[-1]}, "
        f"{args.events} confirmed orders of 1-3 lines over {args.items} items",
        flush=True,
    )
    results = []
    try:
        for round_index in range(args.rounds):
            for consumers in (1, 2):
                results.append(
                    run(
                        consumers=consumers,
                        events=args.events,
                        items_count=args.items,
                        env=env,
                        url=url,
                        topology=topology,
                        seed=round_index,
                    )
                )
    finally:
        topology_delete(url, topology)
    for consumers in (1, 2):
        rates = sorted(row["events_per_s"] for row in results if row["consumers"] == consumers)
        print(f"median, {consumers} consumer(s): {rates[len(rates) // 2]} events/s over {len(rates)} run(s)")
    print(f"load average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
    out = Path(os.environ.get("ERP_DATA_DIR", ROOT / ".run")) / "bench_inventory_events.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results written to {out}")
    return 0 if all(row["ledger_exact"] for row in results) else 1


if __name__ == "__main__":
    sys.exit(main())
