"""Receipts racing for the same open quantity (PostgreSQL, threads): the line is never over-received."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.db import connection

from common.events.models import OutboxEvent
from erp_testkit.concurrency import Worker
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
