"""Query counts of inventory's event handlers, each event delivered through the consumer's inbox path and
pinned on PostgreSQL: the same whatever the number of lines. (Not in the SQLite lane: it has no row locks
and no pg_notify, so its statements differ.)"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.events import registry
from erp_testkit.events import deliver
from erp_testkit.queries import statements

from .conftest import order_event, receipt_event

pytestmark = pytest.mark.django_db

LINES = [1, 5]

# Every handler's first statement is its event's inbox row, and its last two an outbox INSERT and the pg_notify that
# wakes the relay at commit (an event written: the order's answer, or the receipt's refusal).
INBOX = ["INSERT"]
OUTBOX = ["INSERT", "SELECT"]
# The stock rows of the event's items locked, then their items read.
STOCK_LOCK = ["SELECT", "SELECT"]


@pytest.fixture
def items(make_item):
    """``items(count, stock=N)``: as many items, each with ``stock`` on hand."""
    return lambda count, **fields: [make_item(**fields) for _ in range(count)]


@pytest.mark.parametrize("lines", LINES)
def test_a_confirmed_order_issued_query_count_is_pinned(items, lines):
    # given
    ordered = items(lines, stock=10)
    data = order_event(uuid.uuid4(), *[(item, 2) for item in ordered])

    # when
    with CaptureQueriesContext(connection) as issuing:
        assert deliver(registry.SALES_ORDER_CONFIRMED, data).applied

    # then: the decision recorded, the stock rows in one UPDATE, the movements in one INSERT
    assert statements(issuing) == [*INBOX, *STOCK_LOCK, "INSERT", "UPDATE", "INSERT", *OUTBOX]


@pytest.mark.parametrize("lines", LINES)
def test_a_confirmed_order_taking_every_item_below_its_reorder_level_query_count_is_pinned(items, lines):
    # given: each issue leaves its item at its reorder level (each item low: one event each)
    ordered = items(lines, stock=10, reorder_level=8)
    data = order_event(uuid.uuid4(), *[(item, 2) for item in ordered])

    # when
    with CaptureQueriesContext(connection) as issuing:
        assert deliver(registry.SALES_ORDER_CONFIRMED, data).applied

    # then: as any issue, and the low-stock events of every item in one INSERT (and its pg_notify)
    assert statements(issuing) == [*INBOX, *STOCK_LOCK, "INSERT", *OUTBOX, "UPDATE", "INSERT", *OUTBOX]


@pytest.mark.parametrize("lines", LINES)
def test_a_confirmed_order_short_query_count_is_pinned(items, lines):
    # given: nothing on hand
    data = order_event(uuid.uuid4(), *[(item, 2) for item in items(lines)])

    # when
    with CaptureQueriesContext(connection) as deciding:
        assert deliver(registry.SALES_ORDER_CONFIRMED, data).applied

    # then: the decision recorded, nothing moved
    assert statements(deciding) == [*INBOX, *STOCK_LOCK, "INSERT", *OUTBOX]


@pytest.mark.parametrize("lines", LINES)
def test_a_confirmed_order_backordered_query_count_is_pinned(items, lines):
    # given: an order allowing backorders, half of each line on hand
    data = order_event(uuid.uuid4(), *[(item, 2) for item in items(lines, stock=1)])

    # when
    with CaptureQueriesContext(connection) as deciding:
        assert deliver(registry.SALES_ORDER_CONFIRMED_V2, {**data, "allow_backorder": True}).applied

    # then: the decision, the backorders (one INSERT) and the stock rows' backordered figures (one UPDATE); the
    # issue (each item taken to 0: its low-stock event); the order's figures read (issued, waiting) for its event
    assert statements(deciding) == [
        *[*INBOX, *STOCK_LOCK, "INSERT", "INSERT", "UPDATE"],
        *[*OUTBOX, "UPDATE", "INSERT"],
        *["SELECT", "SELECT", *OUTBOX],
    ]


@pytest.mark.parametrize("lines", LINES)
def test_a_cancelled_order_query_counts_are_pinned(items, lines):
    # given: an order issued in full, and one half waiting for stock
    issued = order_event(uuid.uuid4(), *[(item, 2) for item in items(lines, stock=10)])
    waiting = order_event(uuid.uuid4(), *[(item, 2) for item in items(lines, stock=1)])
    assert deliver(registry.SALES_ORDER_CONFIRMED, issued).applied
    assert deliver(registry.SALES_ORDER_CONFIRMED_V2, {**waiting, "allow_backorder": True}).applied

    # when
    with CaptureQueriesContext(connection) as returning:
        assert deliver(registry.SALES_ORDER_CANCELLED, {"order_id": issued["order_id"]}).applied
    with CaptureQueriesContext(connection) as dropping:
        assert deliver(registry.SALES_ORDER_CANCELLED, {"order_id": waiting["order_id"]}).applied

    # then: each what was issued (read before the locks, and again under them), what waits, whether it was given
    # back before (two EXISTS), its open backorders; those dropped (the waiting order: one UPDATE, and one of the
    # stock rows' backordered figures); the give-back's movements; the order's version row locked and bumped, what
    # it gave back read for its event
    given_back = ["UPDATE", "INSERT", "SELECT", "UPDATE", "SELECT", *OUTBOX]
    reads = [*INBOX, "SELECT", "SELECT", *STOCK_LOCK, "SELECT", "SELECT", "SELECT", "SELECT"]
    assert statements(returning) == [*reads, *given_back]
    assert statements(dropping) == [*reads, "UPDATE", "UPDATE", *given_back]


@pytest.mark.parametrize("lines", LINES)
def test_a_received_order_and_a_receipt_query_counts_are_pinned(items, lines):
    # given
    ordered = items(lines)
    whole = order_event(uuid.uuid4(), *[(item, 2) for item in ordered], party="vendor_id")
    receipt = receipt_event(uuid.uuid4(), uuid.uuid4(), *[(item, 2) for item in ordered], status="PartiallyReceived")

    # when
    with CaptureQueriesContext(connection) as receiving:
        assert deliver(registry.PURCHASE_ORDER_RECEIVED, whole).applied
    with CaptureQueriesContext(connection) as stocking:
        assert deliver(registry.PURCHASE_ORDER_RECEIVED_V2, receipt).applied

    # then: the order's movements so far read (a receipt counted once), the stock rows in one UPDATE, the movements
    # in one INSERT (no event: nothing waits)
    assert statements(receiving) == statements(stocking) == [*INBOX, *STOCK_LOCK, "SELECT", "UPDATE", "INSERT"]


# A receipt filling backorders, whether of one order of many items or of many orders of one item.
FILLING = [
    *[*INBOX, *STOCK_LOCK, "SELECT", "UPDATE", "INSERT"],
    *["SELECT", "UPDATE", "UPDATE"],
    *[*OUTBOX, "UPDATE", "INSERT"],
    *["SELECT", "UPDATE", "SELECT", "SELECT", *OUTBOX],
]


@pytest.mark.parametrize("lines", LINES)
def test_a_receipt_filling_an_order_of_many_items_query_count_is_pinned(items, lines):
    # given: an order waiting for every unit of as many items
    ordered = items(lines)
    waiting = order_event(uuid.uuid4(), *[(item, 2) for item in ordered])
    assert deliver(registry.SALES_ORDER_CONFIRMED_V2, {**waiting, "allow_backorder": True}).applied
    receipt = receipt_event(uuid.uuid4(), uuid.uuid4(), *[(item, 2) for item in ordered], status="Received")

    # when
    with CaptureQueriesContext(connection) as filling:
        assert deliver(registry.PURCHASE_ORDER_RECEIVED_V2, receipt).applied

    # then: the receipt as any; every item's queue read in one SELECT and the backorders filled in one UPDATE (and
    # the stock rows' backordered figures in one); the fills' movements (each item taken to 0: its low-stock event)
    # in one UPDATE of the stock rows and one INSERT; the filled orders' version rows locked and bumped in one
    # UPDATE, their figures read in two SELECTs, their events written in one INSERT
    assert statements(filling) == FILLING


@pytest.mark.parametrize("orders", [1, 5])
def test_a_receipt_filling_many_orders_query_count_is_pinned(items, orders):
    # given: as many orders waiting for the same item
    (item,) = items(1)
    for _ in range(orders):
        waiting = order_event(uuid.uuid4(), (item, 2))
        assert deliver(registry.SALES_ORDER_CONFIRMED_V2, {**waiting, "allow_backorder": True}).applied
    receipt = receipt_event(uuid.uuid4(), uuid.uuid4(), (item, 2 * orders), status="Received")

    # when
    with CaptureQueriesContext(connection) as filling:
        assert deliver(registry.PURCHASE_ORDER_RECEIVED_V2, receipt).applied

    # then: the same statements as for the order of many items
    assert statements(filling) == FILLING


def test_a_receipt_of_an_unknown_item_refused_query_count_is_pinned(items):
    # given: a receipt of an item inventory does not have
    receipt = receipt_event(uuid.uuid4(), uuid.uuid4(), *[(item, 2) for item in items(1)], status="Received")
    receipt["items"][0]["item_id"] = str(uuid.uuid4())

    # when
    with CaptureQueriesContext(connection) as refusing:
        assert deliver(registry.PURCHASE_ORDER_RECEIVED_V2, receipt).applied

    # then: the stock rows' lock finding none (no items to read), the order's movements read; rolled back to the
    # receipt's savepoint, the refusal written
    assert statements(refusing) == [*INBOX, "SELECT", "SELECT", *OUTBOX]
