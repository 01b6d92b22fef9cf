"""The event handlers through the real inbox path: RabbitMQ -> consume_events' consumer -> handler.

Each test publishes the other services' events to a private topology (a unique
prefix, deleted afterwards) on the real broker, runs inventory's consumer on a
thread, and waits for it to dispose of every message.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from kombu import Connection, Producer

from common.events import envelope, jsonenc, registry
from common.events.consumer import REASON, EventConsumer, Taken
from common.events.models import InboxEvent
from common.events.topology import Topology
from erp_testkit.broker import drain, publishing_connection, queue_depth
from erp_testkit.processes import STARTED_WITHIN
from inventory.models import IssueOutcome, MovementReason, SalesOrderIssue, StockMovement
from inventory.selectors import backorder_discrepancies, sales_order_stock, stock_ledger_discrepancies

from .conftest import PRICE, ledger_total, on_hand, order_event, receipt_event

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE_DIR = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")


@pytest.fixture
def amqp_url() -> str:
    url = django_settings.BROKER_URL
    # These tests are about the broker path: a missing RabbitMQ is a failure, never a skip.
    assert url.startswith("amqp://"), f"BROKER_URL must point at RabbitMQ, got {url!r}"
    return url


@pytest.fixture
def topology(settings, amqp_url) -> Topology:
    settings.ERP_EVENTS = {
        **settings.ERP_EVENTS,
        "PREFIX": f"invtest.{uuid.uuid4().hex[:10]}.",
        "RETRY_DELAYS": [0.2],
        "PUBLISH_TIMEOUT": 3.0,
    }
    topology = Topology()
    with Connection(amqp_url) as conn:
        topology.declare(conn)
    yield topology
    with Connection(amqp_url) as conn:
        topology.delete(conn)


@pytest.fixture
def consumer(topology, postgresql):
    """Inventory's consumer with its real handler map, on a thread; stopped at teardown."""
    worker = EventConsumer(consumer="inventory")

    def run():
        try:
            worker.run(safety_interval=0.2)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the consumer did not stop"


@pytest.fixture
def publish(topology, amqp_url):
    """Publish an event as its producer's relay would: the envelope on ``erp.events``, keyed by type."""

    def send(
        event_type, data: dict, *, event_id: uuid.UUID | None = None, body: bytes | None = None, unchecked: bool = False
    ) -> None:
        if unchecked:  # the envelope as a faulty producer might write it, data unchecked
            body = jsonenc.dumps(
                {
                    "event_id": event_id or uuid.uuid4(),
                    "event_type": event_type.name,
                    "version": event_type.version,
                    "occurred_at": dt.datetime.now(dt.UTC),
                    "producer": event_type.producer,
                    "correlation_id": None,
                    "aggregate_id": str(data["order_id"]),
                    "aggregate_version": 1,
                    "data": data,
                }
            ).encode()
        if body is None:
            _, text = envelope.build(
                event_type, data=data, aggregate_id=data["order_id"], aggregate_version=1, event_id=event_id
            )
            body = text.encode()
        # Confirmed: a connection closed right after an unconfirmed publish may lose it.
        with publishing_connection(amqp_url) as conn:
            Producer(conn.default_channel).publish(
                body,
                exchange=topology.exchange,
                routing_key=event_type.name,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )

    return send


def disposed(worker: EventConsumer) -> int:
    return worker.applied + worker.duplicates + worker.dead_lettered


def published(outbox, event_type) -> list[dict]:
    return [data for name, data in outbox() if name == event_type.name]


def test_confirmed_order_is_issued_in_full(consumer, publish, make_item, outbox):
    # given
    first, second = make_item(stock=5), make_item(stock=3)
    order, event_id = uuid.uuid4(), uuid.uuid4()

    # when
    publish(registry.SALES_ORDER_CONFIRMED, order_event(order, (first, 2), (second, 3)), event_id=event_id)
    wait_until(lambda: consumer.applied == 1, message="the confirmed order")

    # then
    assert (on_hand(first), on_hand(second)) == (3, 0)
    assert published(outbox, registry.STOCK_ISSUED) == [
        {
            "order_id": str(order),
            "items": sorted(
                [
                    {"item_id": str(first.pk), "quantity": 2, "quantity_after": 3},
                    {"item_id": str(second.pk), "quantity": 3, "quantity_after": 0},
                ],
                key=lambda line: line["item_id"],
            ),
        }
    ]
    assert set(StockMovement.objects.filter(reference=order).values_list("actor", flat=True)) == {
        f"sales (event {event_id})"
    }


def test_confirmed_order_with_a_short_line_issues_nothing_and_names_it(consumer, publish, make_item, outbox):
    # given
    enough, scarce = make_item(stock=5), make_item(stock=1)
    order = uuid.uuid4()
    movements_before = StockMovement.objects.count()

    # when
    publish(registry.SALES_ORDER_CONFIRMED, order_event(order, (enough, 2), (scarce, 2)))
    wait_until(lambda: consumer.applied == 1, message="the confirmed order")

    # then
    assert (on_hand(enough), on_hand(scarce)) == (5, 1)
    assert StockMovement.objects.count() == movements_before
    assert published(outbox, registry.STOCK_SHORTAGE) == [
        {"order_id": str(order), "items": [{"item_id": str(scarce.pk), "requested": 2, "available": 1}]}
    ]
    assert published(outbox, registry.STOCK_ISSUED) == []


def test_received_purchase_order_adds_every_line(consumer, publish, make_item):
    # given
    first, second = make_item(stock=1), make_item()
    order = uuid.uuid4()

    # when
    publish(registry.PURCHASE_ORDER_RECEIVED, order_event(order, (first, 4), (second, 6), party="vendor_id"))
    wait_until(lambda: consumer.applied == 1, message="the received order")

    # then: the previous version is one receipt of the whole order, named by the order's id
    assert (on_hand(first), on_hand(second)) == (5, 6)
    assert sorted(StockMovement.objects.filter(reference=order).values_list("reason", "change", "receipt_id")) == [
        ("purchase_receipt", 4, order),
        ("purchase_receipt", 6, order),
    ]


def test_cancelled_order_gives_back_what_was_issued_once(consumer, publish, make_item, outbox):
    # given: issued, then the same cancellation under two event ids
    item = make_item(stock=5)
    order = uuid.uuid4()
    publish(registry.SALES_ORDER_CONFIRMED, order_event(order, (item, 4)))
    wait_until(lambda: consumer.applied == 1, message="the issue")

    # when
    publish(registry.SALES_ORDER_CANCELLED, {"order_id": str(order)})
    publish(registry.SALES_ORDER_CANCELLED, {"order_id": str(order)})
    wait_until(lambda: consumer.applied == 3, message="both cancellations")

    # then
    assert on_hand(item) == 5 == ledger_total(item)
    assert list(
        StockMovement.objects.filter(reference=order, reason=MovementReason.SALES_CANCELLATION).values_list(
            "change", "quantity_after"
        )
    ) == [(4, 5)]
    assert published(outbox, registry.STOCK_RETURNED) == [
        {"order_id": str(order), "items": [{"item_id": str(item.pk), "quantity": 4, "quantity_after": 5}]}
    ]


def test_cancelled_order_that_was_never_issued_changes_nothing(consumer, publish, make_item, snapshot):
    # given
    make_item(stock=5)
    before = snapshot()

    # when
    publish(registry.SALES_ORDER_CANCELLED, {"order_id": str(uuid.uuid4())})
    wait_until(lambda: consumer.applied == 1, message="the cancellation")

    # then
    assert snapshot() == before


def test_the_same_event_twice_is_applied_once(consumer, publish, make_item, outbox):
    # given
    item = make_item(stock=5)
    event_id = uuid.uuid4()
    data = order_event(uuid.uuid4(), (item, 2))

    # when
    publish(registry.SALES_ORDER_CONFIRMED, data, event_id=event_id)
    publish(registry.SALES_ORDER_CONFIRMED, data, event_id=event_id)
    wait_until(lambda: disposed(consumer) == 2, message="both deliveries")

    # then
    assert (consumer.applied, consumer.duplicates) == (1, 1)
    assert on_hand(item) == 3 == ledger_total(item)
    assert len(published(outbox, registry.STOCK_ISSUED)) == 1


@pytest.mark.parametrize(
    "event_type", [registry.SALES_ORDER_CONFIRMED, registry.PURCHASE_ORDER_RECEIVED], ids=["issue", "receipt"]
)
def test_the_same_order_under_two_event_ids_moves_stock_once(consumer, publish, make_item, outbox, event_type):
    # given
    item = make_item(stock=5)
    party = "customer_id" if event_type == registry.SALES_ORDER_CONFIRMED else "vendor_id"
    data = order_event(uuid.uuid4(), (item, 2), party=party)

    # when
    publish(event_type, data)
    publish(event_type, data)
    wait_until(lambda: consumer.applied == 2, message="both events")

    # then: two inbox records, one movement
    assert InboxEvent.objects.count() == 2
    assert StockMovement.objects.filter(reference=data["order_id"]).count() == 1
    assert on_hand(item) == (3 if event_type == registry.SALES_ORDER_CONFIRMED else 7) == ledger_total(item)
    assert len(published(outbox, registry.STOCK_ISSUED)) == (1 if event_type == registry.SALES_ORDER_CONFIRMED else 0)


@pytest.mark.parametrize(
    "items",
    [
        [{"item_id": "not-a-uuid", "quantity": 1, "unit_price": PRICE, "subtotal": PRICE}],
        [{"item_id": str(uuid.uuid4()), "quantity": "two", "unit_price": PRICE, "subtotal": PRICE}],
        [{"item_id": str(uuid.uuid4()), "quantity": 0, "unit_price": PRICE, "subtotal": Decimal("0.00")}],
        [],
    ],
    ids=["bad-item-id", "quantity-not-a-number", "zero-quantity", "no-lines"],
)
def test_a_malformed_event_is_dead_lettered_and_changes_nothing(
    consumer, publish, make_item, snapshot, topology, amqp_url, items
):
    # given
    item = make_item(stock=5)
    data = order_event(uuid.uuid4(), (item, 1))
    # A good line beside the bad one: nothing of the order may be applied.
    data["items"] = [*items, *data["items"]] if items else []
    before = snapshot()

    # when: sent by a producer that skipped the registry's checks
    publish(registry.SALES_ORDER_CONFIRMED, data, unchecked=True)
    wait_until(lambda: consumer.dead_lettered == 1, message="the dead letter")

    # then
    assert snapshot() == before
    assert not InboxEvent.objects.exists()
    wait_until(lambda: queue_depth(amqp_url, topology.dlq_name("inventory")) == 1, message="the DLQ copy")
    [letter] = drain(amqp_url, topology.dlq_name("inventory"))
    assert letter.headers[REASON]


@pytest.mark.parametrize("version", [1, 2])
def test_a_receipt_naming_an_unknown_item_is_refused_and_reported_never_only_dead_lettered(
    consumer, publish, make_item, snapshot, topology, amqp_url, outbox, version
):
    # given: one known line, one item that does not exist (deleted while its order was open: issue 26)
    item = make_item(stock=1)
    order_id, unknown = uuid.uuid4(), uuid.uuid4()
    data = order_event(order_id, (item, 4), party="vendor_id")
    data["items"].append({"item_id": str(unknown), "quantity": 1, "unit_price": PRICE, "subtotal": PRICE})
    receipt_id = order_id
    if version == 2:
        receipt_id = uuid.uuid4()
        amount = data.pop("total_amount")
        data = {**data, "receipt_id": str(receipt_id), "status": "Received", "amount": amount}
    before = snapshot()

    # when
    publish(registry.PURCHASE_ORDER_RECEIVED if version == 1 else registry.PURCHASE_ORDER_RECEIVED_V2, data)
    wait_until(lambda: consumer.applied == 1, message="the refusal")

    # then: no stock moved (a receipt is stocked whole or not at all), no retry, no dead letter, and
    # inventory.receipt.refused tells purchase_svc, which shows it on the order and counts it
    assert (consumer.retried, consumer.dead_lettered) == (0, 0)
    assert snapshot()[:3] == before[:3]
    assert outbox() == [
        (
            "inventory.receipt.refused",
            {
                "order_id": str(order_id),
                "receipt_id": str(receipt_id),
                "items": [{"item_id": str(unknown), "quantity": 1}],
            },
        )
    ]
    assert queue_depth(amqp_url, topology.dlq_name("inventory")) == 0


def test_an_envelope_without_data_is_dead_lettered(consumer, publish, make_item, snapshot, topology, amqp_url):
    # given
    make_item(stock=5)
    before = snapshot()

    # when
    publish(registry.SALES_ORDER_CONFIRMED, {}, body=b'{"event_type": "sales.order.confirmed", "version": 1}')
    wait_until(lambda: consumer.dead_lettered == 1, message="the dead letter")

    # then
    assert snapshot() == before
    [letter] = drain(amqp_url, topology.dlq_name("inventory"))
    assert "misses fields" in letter.headers[REASON]


def test_every_receipt_delivered_three_times_across_a_consumer_restart_moves_stock_once(
    topology, publish, make_item, postgresql
):
    # given: three receipts of one order (60 + 30 + 10 bolts, 4 nuts), each event sent three times
    bolt, nut = make_item(stock=1), make_item()
    order = uuid.uuid4()
    first_receipt, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    receipts = [(uuid.uuid4(), receipt_event(order, first_receipt, (bolt, 60), status="PartiallyReceived"))]
    receipts.append((uuid.uuid4(), receipt_event(order, second, (bolt, 30), (nut, 4), status="PartiallyReceived")))
    receipts.append((uuid.uuid4(), receipt_event(order, third, (bolt, 10), status="Received")))

    def start_consumer() -> tuple[EventConsumer, threading.Thread]:
        worker = EventConsumer(consumer="inventory")
        thread = threading.Thread(target=lambda: _run_and_close(worker), daemon=True)
        thread.start()
        return worker, thread

    # when: the first consumer takes the first round, is stopped mid-way through the second; a new one takes the rest
    first, first_thread = start_consumer()
    for event_id, data in receipts:
        publish(registry.PURCHASE_ORDER_RECEIVED_V2, data, event_id=event_id)
    wait_until(lambda: disposed(first) >= 3, message="the first round")
    for event_id, data in receipts:
        publish(registry.PURCHASE_ORDER_RECEIVED_V2, data, event_id=event_id)
    first.stop()
    first_thread.join(timeout=10)
    for event_id, data in receipts:
        publish(registry.PURCHASE_ORDER_RECEIVED_V2, data, event_id=event_id)
    second_worker, second_thread = start_consumer()
    try:
        wait_until(lambda: disposed(first) + disposed(second_worker) == 9, message="all nine deliveries")
    finally:
        second_worker.stop()
        second_thread.join(timeout=10)

    # then: each receipt applied once, the rest recognised as duplicates; the ledger exact
    assert first.applied + second_worker.applied == 3
    assert first.dead_lettered + second_worker.dead_lettered == 0
    assert (on_hand(bolt), on_hand(nut)) == (101, 4) == (ledger_total(bolt), ledger_total(nut))
    movements = StockMovement.objects.filter(reference=order, reason=MovementReason.PURCHASE_RECEIPT)
    assert sorted(movements.values_list("receipt_id", "item_id", "change"), key=str) == sorted(
        [
            (first_receipt, bolt.pk, 60),
            (second, bolt.pk, 30),
            (second, nut.pk, 4),
            (third, bolt.pk, 10),
        ],
        key=str,
    )


def test_the_same_receipt_under_two_event_ids_moves_stock_once(consumer, publish, make_item):
    # given
    item = make_item()
    data = receipt_event(uuid.uuid4(), uuid.uuid4(), (item, 3), status="Received")

    # when
    publish(registry.PURCHASE_ORDER_RECEIVED_V2, data)
    publish(registry.PURCHASE_ORDER_RECEIVED_V2, data)
    wait_until(lambda: consumer.applied == 2, message="both events")

    # then
    assert InboxEvent.objects.count() == 2
    assert on_hand(item) == 3 == ledger_total(item)


def test_a_whole_order_message_for_an_order_received_by_receipts_is_dead_lettered(
    consumer, publish, make_item, snapshot, topology, amqp_url
):
    # given: 4 of 10 received by a receipt (v2)
    item = make_item()
    order = uuid.uuid4()
    publish(
        registry.PURCHASE_ORDER_RECEIVED_V2, receipt_event(order, uuid.uuid4(), (item, 4), status="PartiallyReceived")
    )
    wait_until(lambda: consumer.applied == 1, message="the receipt")
    before = snapshot()

    # when: the previous version names the same order whole (10 more would count the 4 twice)
    publish(registry.PURCHASE_ORDER_RECEIVED, order_event(order, (item, 10), party="vendor_id"))
    wait_until(lambda: consumer.dead_lettered == 1, message="the dead letter")

    # then: parked for an operator at once (no retry changes it), nothing changed
    assert consumer.retried == 0
    assert snapshot() == before
    assert on_hand(item) == 4 == ledger_total(item)
    [letter] = drain(amqp_url, topology.dlq_name("inventory"))
    assert "already received by receipts" in letter.headers[REASON]


def _run_and_close(worker: EventConsumer) -> None:
    try:
        worker.run(safety_interval=0.2)
    finally:
        connections.close_all()


def consumer_process(topology) -> subprocess.Popen:
    """inventory's ``manage.py consume_events`` as a real process, on the test database and topology."""
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        DJANGO_SETTINGS_MODULE="config.settings",
        ERP_EVENTS_PREFIX=topology.prefix,
        ERP_EVENTS_RETRY_DELAYS="0.2",
        LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "consume_events"],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until_disposed(amqp_url: str, topology: Topology, *, applied: int, timeout: float = 60) -> None:
    """Wait until the inbox holds ``applied`` events and the service queue is empty."""
    wait_until(
        lambda: InboxEvent.objects.count() == applied and queue_depth(amqp_url, topology.queue_name("inventory")) == 0,
        timeout=timeout,
        message="every delivery disposed of",
    )


def stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(15)


def test_every_receipt_delivered_three_times_while_the_consumer_is_killed_and_restarted(
    topology, publish, make_item, postgresql, amqp_url
):
    # given: four receipts of one order, each event sent three times, and a consumer process
    bolt, nut = make_item(stock=1), make_item()
    order = uuid.uuid4()
    receipts = [
        (uuid.uuid4(), receipt_event(order, uuid.uuid4(), *lines, status="PartiallyReceived"))
        for lines in (((bolt, 60),), ((bolt, 30), (nut, 4)), ((nut, 6),), ((bolt, 10),))
    ]
    first = consumer_process(topology)
    try:
        # when: a round goes to the first process, which is killed (SIGKILL) once it has applied something
        for event_id, data in receipts:
            publish(registry.PURCHASE_ORDER_RECEIVED_V2, data, event_id=event_id)
        # (the process's start included: Django's setup takes seconds on a loaded machine)
        wait_until(lambda: InboxEvent.objects.exists(), timeout=STARTED_WITHIN, message="a first receipt applied")
        for event_id, data in receipts:
            publish(registry.PURCHASE_ORDER_RECEIVED_V2, data, event_id=event_id)
        first.kill()
        first.wait(10)
        # ... and the third round, with whatever the dead one held unacknowledged, to a new process
        for event_id, data in receipts:
            publish(registry.PURCHASE_ORDER_RECEIVED_V2, data, event_id=event_id)
        second = consumer_process(topology)
        try:
            wait_until(
                lambda: (
                    InboxEvent.objects.count() == 4 and queue_depth(amqp_url, topology.queue_name("inventory")) == 0
                ),
                timeout=STARTED_WITHIN,
                message="every receipt applied and the queue empty",
            )
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()

    # then: each receipt once, the ledger exact
    assert (on_hand(bolt), on_hand(nut)) == (101, 10) == (ledger_total(bolt), ledger_total(nut))
    movements = StockMovement.objects.filter(reference=order, reason=MovementReason.PURCHASE_RECEIPT)
    assert movements.count() == 5
    assert set(movements.values_list("receipt_id", flat=True)) == {
        uuid.UUID(data["receipt_id"]) for _, data in receipts
    }
    assert queue_depth(amqp_url, topology.dlq_name("inventory")) == 0


def test_competing_consumers_batching_the_sales_of_one_item_issue_each_unit_once_and_never_below_zero(
    topology, publish, make_item, postgresql, amqp_url
):
    # given: 50 units of one item and 60 one-unit orders for it; 10 delivered twice, 5 again under a second event id
    item = make_item(stock=50)
    orders = [(uuid.uuid4(), uuid.uuid4()) for _ in range(60)]  # (order id, event id)
    redeliveries = [(order_id, event_id) for order_id, event_id in orders[:10]]
    second_ids = [(order_id, uuid.uuid4()) for order_id, _ in orders[10:15]]
    for order_id, event_id in [*orders, *redeliveries, *second_ids]:
        publish(registry.SALES_ORDER_CONFIRMED, order_event(order_id, (item, 1)), event_id=event_id)
    # when: two consumer processes (batches of inventory's BATCH_SIZE) compete; one is killed and restarted midway
    processes = [consumer_process(topology), consumer_process(topology)]
    try:
        wait_until(lambda: SalesOrderIssue.objects.count() >= 10, timeout=60, message="the first issues")
        processes[0].kill()
        processes[0].wait(10)
        processes[0] = consumer_process(topology)
        wait_until_disposed(amqp_url, topology, applied=65)
    finally:
        stop_processes(processes)
    # then: 50 orders issued one unit each, 10 short, the stock at 0 and equal to its ledger, nothing dead-lettered
    assert on_hand(item) == 0 == ledger_total(item)
    issues = StockMovement.objects.filter(item_id=item.pk, reason=MovementReason.SALES_ISSUE)
    assert sorted(issues.values_list("change", flat=True)) == [-1] * 50
    assert issues.values("reference").distinct().count() == 50
    decisions = SalesOrderIssue.objects.filter(order_id__in=[order_id for order_id, _ in orders])
    assert sorted(decisions.values_list("outcome", flat=True)) == sorted(
        [IssueOutcome.ISSUED] * 50 + [IssueOutcome.SHORT] * 10
    )
    assert queue_depth(amqp_url, topology.dlq_name("inventory")) == 0


def test_a_batch_of_sales_of_one_item_locks_its_stock_row_once_first_then_each_sale_in_its_savepoint(
    topology, make_item, postgresql
):
    # given: inventory's consumer, and three one-unit sales of one item
    item = make_item(stock=10)
    worker = EventConsumer(consumer="inventory")
    events = []
    for _ in range(3):
        data = order_event(uuid.uuid4(), (item, 1))
        _, body = envelope.build(
            registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id=data["order_id"], aggregate_version=1
        )
        events.append(envelope.parse(body))
    taken = [Taken(message=None, event=event, handler=worker.handlers[event.event_type], attempt=1, db_retries=0)
             for event in events]  # fmt: skip
    # when
    with CaptureQueriesContext(connection) as queries:
        outcomes = worker._apply_batch(taken)
    # then: the batch lock is the first statement; per sale a fixed number of queries in its own savepoint
    assert worker.batch_size == django_settings.ERP_EVENTS["BATCH_SIZE"] > 1
    assert outcomes == [True, True, True]
    sql = [query["sql"] for query in queries.captured_queries]
    assert sql[0] == "BEGIN" and sql[-1] == "COMMIT"
    assert "FOR UPDATE" in sql[1] and "ORDER BY" in sql[1] and sql[2].startswith("SAVEPOINT")
    per_sale = (len(sql) - 3) // 3
    assert (len(sql) - 3, per_sale) == (3 * PER_SALE_QUERIES, PER_SALE_QUERIES)
    assert on_hand(item) == 7 == ledger_total(item)


# The event's SAVEPOINT and inbox INSERT; the stock row lock (held by the batch already: no wait) and item, the
# decision INSERT, the stock UPDATE, the movement INSERT, the outbox INSERT and its pg_notify; the RELEASE SAVEPOINT.
# (stock_issue_for_order takes no savepoint of its own: common.events.handler_atomic.)
PER_SALE_QUERIES = 10


def test_competing_batching_consumers_apply_confirmations_receipts_cancels_and_backorder_fills_each_once(
    topology, publish, make_item, postgresql, amqp_url
):
    # given: two items; 24 orders of both (half may wait as backorders), 6 receipts of both that fill the queue,
    # some of each delivered twice: confirmations, receipts and (later) cancels share batches
    x, y = make_item(stock=6), make_item(stock=4)
    orders = [uuid.uuid4() for _ in range(24)]
    receipts = [(uuid.uuid4(), uuid.uuid4()) for _ in range(6)]
    first = []
    for number, order_id in enumerate(orders):
        data = order_event(order_id, (x, 1), (y, 2) if number % 3 else (y, 1))
        if number % 2:
            first.append((registry.SALES_ORDER_CONFIRMED_V2, {**data, "allow_backorder": True}, uuid.uuid4()))
        else:
            first.append((registry.SALES_ORDER_CONFIRMED, data, uuid.uuid4()))
    for order_id, receipt_id in receipts:
        data = receipt_event(order_id, receipt_id, (x, 2), (y, 3), status="partially_received")
        first.append((registry.PURCHASE_ORDER_RECEIVED_V2, data, uuid.uuid4()))
    processes = [consumer_process(topology), consumer_process(topology)]
    try:
        for event_type, data, event_id in [*first, *first[::5]]:
            publish(event_type, data, event_id=event_id)
        wait_until(lambda: InboxEvent.objects.count() == len(first), timeout=90, message="the first events applied")
        # when: a third of the decided orders are cancelled (twice each) while more receipts arrive
        cancelled = orders[::3]
        later = [(uuid.uuid4(), uuid.uuid4()) for _ in range(3)]
        for number, order_id in enumerate(cancelled):
            publish(registry.SALES_ORDER_CANCELLED, {"order_id": str(order_id)}, event_id=uuid.UUID(int=number + 1))
            if number < len(later):
                order, receipt = later[number]
                data = receipt_event(order, receipt, (x, 1), (y, 2), status="partially_received")
                publish(registry.PURCHASE_ORDER_RECEIVED_V2, data)
            publish(registry.SALES_ORDER_CANCELLED, {"order_id": str(order_id)}, event_id=uuid.UUID(int=number + 1))
        wait_until_disposed(amqp_url, topology, applied=len(first) + len(cancelled) + len(later), timeout=90)
    finally:
        stop_processes(processes)
    # then: stock equals its ledger and is not below zero; backorders agree with the ledger; for each
    # order, issued - given back + waiting + dropped is what it ordered (or nothing at all)
    for item in (x, y):
        assert on_hand(item) == ledger_total(item) >= 0
    assert stock_ledger_discrepancies() == []
    assert backorder_discrepancies() == []
    figures = sales_order_stock()
    for number, order_id in enumerate(orders):
        wanted = {x.pk: 1, y.pk: 2 if number % 3 else 1}
        decision = SalesOrderIssue.objects.get(order_id=order_id)
        for item_id, quantity in wanted.items():
            got = figures.get((order_id, item_id))
            if decision.outcome == IssueOutcome.SHORT:
                assert got is None
                continue
            assert got.issued + got.open + got.dropped == quantity
            assert got.given_back == (got.issued if order_id in cancelled else 0)
            assert got.open == 0 or order_id not in cancelled
    assert queue_depth(amqp_url, topology.dlq_name("inventory")) == 0


def test_batching_consumers_whose_database_connections_are_killed_while_they_work_issue_each_unit_once(
    topology, publish, make_item, postgresql, amqp_url
):
    # given: 100 units of one item, 120 one-unit orders for it (20 delivered twice), two consumer processes
    item = make_item(stock=100)
    orders = [(uuid.uuid4(), uuid.uuid4()) for _ in range(120)]
    for order_id, event_id in [*orders, *orders[:20]]:
        publish(registry.SALES_ORDER_CONFIRMED, order_event(order_id, (item, 1)), event_id=event_id)
    processes = [consumer_process(topology), consumer_process(topology)]
    killed = rounds = 0
    try:
        # when: once they work, every other backend on the test database is terminated, again and again
        wait_until(lambda: SalesOrderIssue.objects.exists(), timeout=60, message="the first issue")
        while SalesOrderIssue.objects.count() < 120 and rounds < 8:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                found = cursor.fetchone()[0]
            killed, rounds = killed + found, rounds + bool(found)
            time.sleep(0.05)
        wait_until_disposed(amqp_url, topology, applied=120)
    finally:
        stop_processes(processes)
    # then: 100 orders issued one unit each, 20 short, the stock at 0 and equal to its ledger, nothing dead-lettered
    assert killed > 0
    assert on_hand(item) == 0 == ledger_total(item)
    issues = StockMovement.objects.filter(item_id=item.pk, reason=MovementReason.SALES_ISSUE)
    assert sorted(issues.values_list("change", flat=True)) == [-1] * 100
    decisions = SalesOrderIssue.objects.filter(order_id__in=[order_id for order_id, _ in orders])
    assert sorted(decisions.values_list("outcome", flat=True)) == sorted(
        [IssueOutcome.ISSUED] * 100 + [IssueOutcome.SHORT] * 20
    )
    assert queue_depth(amqp_url, topology.dlq_name("inventory")) == 0
