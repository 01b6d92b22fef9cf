"""A receipt inventory could not stock is visible (issue 26): on the order, on the receipt, and in /metrics.

inventory_svc answers such a receipt with ``inventory.receipt.refused`` instead of dead-lettering
it; purchase_svc marks the receipt and its order, and counts the refused receipts for the operator.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from common.events import registry
from erp_testkit.queries import statements
from purchasing.models import PurchaseReceipt

pytestmark = pytest.mark.django_db


def _refused(order_id: str, receipt_id, item_id: str) -> registry.ReceiptRefusedData:
    return registry.ReceiptRefusedData(
        order_id=uuid.UUID(order_id),
        receipt_id=receipt_id,
        items=(registry.ReceiptLine(item_id=uuid.UUID(item_id), quantity=3),),
    )


def _metric(name: str) -> float:
    for line in Client().get("/metrics").content.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_a_refused_receipt_shows_on_its_order_and_is_counted(services, draft, as_im, deliver):
    # given: a received order, one of whose receipts inventory could not stock
    item = services.add_item()
    order = draft([(item, 3)])
    assert as_im.post(f"/orders/{order['id']}/receive").status_code == 200
    receipt = PurchaseReceipt.objects.get(order_id=order["id"])
    assert _metric("erp_purchase_receipts_stock_refused") == 0

    # when: told twice (a redelivery under another event id)
    applied = [deliver(registry.RECEIPT_REFUSED, _refused(order["id"], receipt.id, item)) for _ in range(2)]

    # then
    assert applied == [True, True]
    shown = as_im.get(f"/orders/{order['id']}").json()["data"]
    receipts = as_im.get(f"/orders/{order['id']}/receipts").json()["data"]
    assert shown["stock_refused_at"] is not None
    assert [r["stock_refused_at"] for r in receipts] == [shown["stock_refused_at"]]
    assert as_im.get("/orders", {"stock_refused": "true"}).json()["meta"]["total"] == 1
    assert _metric("erp_purchase_receipts_stock_refused") == 1


def test_an_order_with_no_refused_receipt_shows_none(services, draft, as_im):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    as_im.post(f"/orders/{order['id']}/receive")

    # then
    assert as_im.get(f"/orders/{order['id']}").json()["data"]["stock_refused_at"] is None
    assert as_im.get("/orders", {"stock_refused": "true"}).json()["meta"]["total"] == 0


def test_a_refused_receipt_query_count_is_pinned(services, draft, as_im, deliver):
    # given: a received order
    item = services.add_item()
    order = draft([(item, 3)])
    assert as_im.post(f"/orders/{order['id']}/receive").status_code == 200
    receipt = PurchaseReceipt.objects.get(order_id=order["id"])

    # when
    with CaptureQueriesContext(connection) as applying:
        assert deliver(registry.RECEIPT_REFUSED, _refused(order["id"], receipt.id, item))

    # then: the inbox row, the order's and the receipt's conditional UPDATEs
    assert statements(applying) == ["INSERT", "UPDATE", "UPDATE"]
