"""Backorders under competing consumers on real PostgreSQL: confirmations, receipts, adjustments and
cancellations over a few items, redelivered, duplicated and cut short by a worker that dies mid-event.

Each worker thread is a consumer (its own connection) taking the next message from a shared
queue and applying it through the consumer's real inbox path (:func:`erp_testkit.events.deliver`).
A "killed" worker runs the handler and dies before its commit (the transaction rolls back,
the inbox row with it); the message is then delivered again, as the broker would. At the
end, what sales would hold (the newest event inventory published about each order) is
handed to ``check_backorders``, and ``check_stock_ledger`` runs too: both at 0 differences.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import deque
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from common.events import registry
from common.events.models import OutboxEvent
from common.exceptions import InsufficientStock
from erp_testkit.events import deliver
from inventory.handlers import HANDLERS
from inventory.models import Stock
from inventory.services import item_create, stock_adjust

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS, ITEMS, ORDERS, RECEIPTS, ADJUSTMENTS = 4, 3, 40, 16, 10
SEED = random.randrange(2**32)


class WorkerKilled(Exception):
    """The worker died after the handler ran, before its commit."""


def _dying(event_type):
    handler = HANDLERS[event_type]

    def run(event):
        handler(event)
        raise WorkerKilled

    return {event_type: run}


def _deliver_at_least_once(rng: random.Random, event_type, data) -> None:
    """Deliver as the broker does: maybe after a killed attempt, maybe again, maybe under a second event id."""
    event_id = uuid.uuid4()
    if rng.random() < 0.2:
        with pytest.raises(WorkerKilled):
            deliver(event_type, data, event_id=event_id, handlers=_dying(event_type))
    deliver(event_type, data, event_id=event_id)
    if rng.random() < 0.3:
        deliver(event_type, data, event_id=event_id)  # redelivered after the commit, before the ack
    if rng.random() < 0.1:
        deliver(event_type, data)  # the producer's relay published it twice


def _line(item_id, quantity):
    return registry.OrderLine(
        item_id=item_id, quantity=quantity, unit_price=Decimal("1.00"), subtotal=Decimal(quantity)
    )


def test_randomized_backorder_traffic_keeps_every_invariant(postgresql, tmp_path):
    # given: three items, a little stock, and a shuffled stream of work
    print(f"seed {SEED}")  # a failure is replayed by setting SEED to it
    rng = random.Random(SEED)
    items = [item_create(sku=f"RACE-{n}", name=f"Race {n}", unit_price=Decimal("1.00")).pk for n in range(ITEMS)]
    stock_adjust(changes={item_id: 5 for item_id in items}, actor="setup")
    ordered: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    work: deque = deque()
    for _ in range(ORDERS):
        order_id = uuid.uuid4()
        lines = {item_id: rng.randint(1, 6) for item_id in rng.sample(items, rng.randint(1, ITEMS))}
        ordered[order_id] = lines
        work.append(("confirm", order_id, rng.random() < 0.8))
    work.extend(("receive", rng.choice(items), rng.randint(1, 8)) for _ in range(RECEIPTS))
    work.extend(("adjust", rng.choice(items), rng.choice([-3, -1, 2, 4])) for _ in range(ADJUSTMENTS))
    shuffled = list(work)
    rng.shuffle(shuffled)
    work = deque(shuffled)
    guard = threading.Lock()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        local = random.Random(seed)
        try:
            while True:
                with guard:
                    if not work:
                        return
                    task = work.popleft()
                _apply(local, task)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def _apply(local: random.Random, task) -> None:
        kind = task[0]
        if kind == "confirm":
            _, order_id, allow_backorder = task
            data = registry.SalesOrderConfirmedV2Data(
                order_id=order_id,
                customer_id=uuid.uuid4(),
                total_amount=Decimal(sum(ordered[order_id].values())),
                allow_backorder=allow_backorder,
                items=tuple(_line(item_id, quantity) for item_id, quantity in ordered[order_id].items()),
            )
            _deliver_at_least_once(local, registry.SALES_ORDER_CONFIRMED_V2, data)
            if local.random() < 0.4:  # sales cancels it once inventory has answered
                with guard:
                    work.append(("cancel", order_id))
        elif kind == "cancel":
            _deliver_at_least_once(local, registry.SALES_ORDER_CANCELLED, registry.OrderCancelledData(task[1]))
        elif kind == "receive":
            _, item_id, quantity = task
            data = registry.PurchaseReceiptData(
                order_id=uuid.uuid4(),
                vendor_id=uuid.uuid4(),
                receipt_id=uuid.uuid4(),
                status="PartiallyReceived",
                amount=Decimal(quantity),
                items=(_line(item_id, quantity),),
            )
            _deliver_at_least_once(local, registry.PURCHASE_ORDER_RECEIVED_V2, data)
        else:
            _, item_id, change = task
            try:
                stock_adjust(changes={item_id: change}, actor="stocktake")
            except InsufficientStock:
                pass  # refused whole, as it should be when too little is on hand

    # when
    threads = [threading.Thread(target=worker, args=(rng.random(),)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a worker hung (a lock never released)"

    # then: no deadlock, no error; stock never negative (the database refuses it); every invariant at 0
    assert errors == [], f"seed {SEED}: {errors!r}"
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"orders": _what_sales_holds(ordered)}), encoding="utf-8")
    out = StringIO()
    for command in (("check_backorders", str(path)), ("check_stock_ledger",)):
        try:
            call_command(*command, stdout=out, stderr=out)
        except CommandError as exc:
            pytest.fail(f"seed {SEED}: {exc}\n{out.getvalue()}")
    on_hand_and_waiting = Stock.objects.filter(item_id__in=items, quantity__gt=0, backordered__gt=0)
    assert not on_hand_and_waiting.exists()


def _what_sales_holds(ordered: dict[uuid.UUID, dict[uuid.UUID, int]]) -> list[dict]:
    """Each order as sales ends up holding it: the figures of the newest event about it (contract §6)."""
    newest: dict[str, dict] = {}
    for payload in OutboxEvent.objects.filter(event_type__startswith="inventory.stock.").values_list(
        "payload", flat=True
    ):
        envelope = json.loads(payload)
        if envelope["event_type"] == "inventory.stock.low":
            continue
        known = newest.get(envelope["aggregate_id"])
        if known is None or envelope["aggregate_version"] > known["aggregate_version"]:
            newest[envelope["aggregate_id"]] = envelope
    orders = []
    for order_id, lines in ordered.items():
        envelope = newest[str(order_id)]
        kind, items = envelope["event_type"].rsplit(".", 1)[1], envelope["data"]["items"]
        if kind in ("backordered", "filled"):
            issued = {line["item_id"]: line["quantity_issued"] for line in items}
            waiting = {line["item_id"]: line["quantity_backordered"] for line in items}
            stock_status = "backordered" if any(waiting.values()) else "issued"
        elif kind == "returned":
            issued, waiting, stock_status = {line["item_id"]: line["quantity"] for line in items}, {}, "returned"
        elif kind == "issued":
            issued, waiting, stock_status = {str(i): q for i, q in lines.items()}, {}, "issued"
        else:
            issued, waiting, stock_status = {}, {}, "short"
        orders.append(
            {
                "order_id": str(order_id),
                "status": "Confirmed",
                "stock_status": stock_status,
                "items": [
                    {
                        "item_id": str(item_id),
                        "ordered": quantity,
                        "issued": issued.get(str(item_id), 0),
                        "backordered": waiting.get(str(item_id), 0),
                    }
                    for item_id, quantity in lines.items()
                ],
            }
        )
    return orders
