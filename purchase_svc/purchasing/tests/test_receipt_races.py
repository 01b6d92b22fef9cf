"""Receipts racing each other and every other write of the order (PostgreSQL, threads): the line is never over-received.

The second writer waits on the order row the first holds (the lock order, purchasing.services), then sees what
the first committed: a transition it no longer allows is its 409, never a deadlock or a double count.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.db import connection

from common.events.models import OutboxEvent
from common.exceptions import InvalidTransition
from erp_testkit.concurrency import Worker, race_between
from order_documents import documents
from order_documents.lines import LineRequest
from purchasing import services as purchase_services
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt
from purchasing.receipts import OverReceipt, ReceiptRequest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql_only():
    assert connection.vendor == "postgresql", "race tests need PostgreSQL row locks (set ERP_POSTGRES_URL)"


def test_twenty_concurrent_one_unit_receipts_against_ten_open_receive_exactly_ten(services, draft):
    # given: a line of 10, nothing received (and another line, so the order stays open to receipts)
    item = services.add_item()
    order = draft([(item, 10), (services.add_item(), 5)])
    start = threading.Barrier(20)

    def one_unit():
        start.wait(10)
        return purchase_services.purchase_order_receipt_create(
            order_id=order["id"], items=[ReceiptRequest(item_id=uuid.UUID(item), quantity=1)], actor="race"
        )

    # when
    workers = [Worker(one_unit) for _ in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    # then: 10 receipts, 10 over-receipt refusals (nothing open any more), the line exactly full
    assert sum(worker.error is None for worker in workers) == 10
    refusals = [worker.error for worker in workers if worker.error is not None]
    assert all(isinstance(error, OverReceipt) for error in refusals), refusals
    assert {(d["ordered"], d["received"], d["open"]) for error in refusals for d in error.details} == {(10, 10, 0)}
    assert list(PurchaseOrderLine.objects.order_by("position").values_list("quantity_received", flat=True)) == [10, 0]
    assert PurchaseReceipt.objects.count() == 10
    assert PurchaseOrder.objects.get().status == "PartiallyReceived"
    events = [json.loads(row.payload)["data"] for row in OutboxEvent.objects.order_by("id")]
    assert sum(line["quantity"] for data in events for line in data["items"]) == 10
    assert len(events) == 10


def _lines(order_id) -> list[tuple[int, int]]:
    return list(
        PurchaseOrderLine.objects.filter(order_id=order_id)
        .order_by("position")
        .values_list("quantity", "quantity_received")
    )


@pytest.mark.parametrize(
    ("second", "outcome", "status", "lines"),
    [
        ("receive", None, "Received", [(10, 10), (5, 5)]),
        ("close", None, "Received", [(10, 4), (5, 5)]),
        ("cancel", InvalidTransition, "PartiallyReceived", [(10, 4), (5, 0)]),
        ("replace lines", InvalidTransition, "PartiallyReceived", [(10, 4), (5, 0)]),
        ("receipt beyond what is left", OverReceipt, "PartiallyReceived", [(10, 4), (5, 0)]),
    ],
)
def test_a_transition_racing_a_receipt_waits_for_it_and_sees_what_it_committed(
    monkeypatch, services, draft, second, outcome, status, lines
):
    # given: 10 bolts and 5 nuts ordered (for close, the nuts already in); a receipt of 4 bolts holding its locks
    bolt, nut = services.add_item(), services.add_item()
    order = draft([(bolt, 10), (nut, 5)])
    order_id = order["id"]
    if second == "close":
        purchase_services.purchase_order_receipt_create(
            order_id=order_id, items=[ReceiptRequest(item_id=uuid.UUID(nut), quantity=5)], actor="race"
        )
    calls = {
        "receive": lambda: purchase_services.purchase_order_receive(order_id=order_id, actor="race"),
        "close": lambda: purchase_services.purchase_order_close(order_id=order_id, actor="race"),
        "cancel": lambda: purchase_services.purchase_order_cancel(order_id=order_id, actor="race"),
        "replace lines": lambda: purchase_services.purchase_order_lines_replace(
            order_id=order_id, lines=[LineRequest(item_id=uuid.UUID(bolt), quantity=1)]
        ),
        "receipt beyond what is left": lambda: purchase_services.purchase_order_receipt_create(
            order_id=order_id, items=[ReceiptRequest(item_id=uuid.UUID(bolt), quantity=7)], actor="race"
        ),
    }

    # when
    first, other = race_between(
        monkeypatch,
        purchase_services,
        hold="purchase_order_received_publish",
        first=lambda: purchase_services.purchase_order_receipt_create(
            order_id=order_id, items=[ReceiptRequest(item_id=uuid.UUID(bolt), quantity=4)], actor="race"
        ),
        second=calls[second],
    )

    # then: the receipt went through; the other saw it (never a deadlock, never a line over-received)
    assert first.error is None
    assert other.error is None if outcome is None else isinstance(other.error, outcome), other.error
    assert (PurchaseOrder.objects.get(pk=order_id).status, _lines(order_id)) == (status, lines)
    received = [json.loads(row.payload)["data"] for row in OutboxEvent.objects.order_by("id")]
    assert [sum(line["quantity"] for line in data["items"]) for data in received] == {
        "receive": [4, 11],
        "close": [5, 4],
    }.get(second, [4])


def test_a_receipt_after_its_draft_was_replaced_fills_the_new_lines(monkeypatch, services, draft):
    # given: a replacement of the draft's lines holding its lock
    bolt = services.add_item()
    order = draft([(bolt, 10)])

    # when: 3 bolts arrive meanwhile
    replaced, receipt = race_between(
        monkeypatch,
        documents,
        hold="lines_write",
        first=lambda: purchase_services.purchase_order_lines_replace(
            order_id=order["id"], lines=[LineRequest(item_id=uuid.UUID(bolt), quantity=3)]
        ),
        second=lambda: purchase_services.purchase_order_receipt_create(
            order_id=order["id"], items=[ReceiptRequest(item_id=uuid.UUID(bolt), quantity=3)], actor="race"
        ),
    )

    # then: the receipt waited for the new lines and completed them
    assert replaced.error is None and receipt.error is None
    assert (PurchaseOrder.objects.get().status, _lines(order["id"])) == ("Received", [(3, 3)])
