"""An order's references as they are now (issue 26): archived ones refused on new orders, gone ones before a receipt.

The attack: an item on a draft was deleted, the order was received and paid, and inventory
dead-lettered the receipt (a paid delivery whose stock never arrived). Receiving now asks
inventory first and refuses, writing nothing, while an item of the receipt is unknown.
"""

from __future__ import annotations

import pytest

from common.events.models import OutboxEvent
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt

pytestmark = pytest.mark.django_db


def _rows():
    return (
        list(PurchaseOrder.objects.order_by("id").values()),
        list(PurchaseOrderLine.objects.order_by("id").values()),
        PurchaseReceipt.objects.count(),
        OutboxEvent.objects.count(),
    )


@pytest.mark.parametrize(("action", "body"), [("receive", None), ("receipts", "items")])
def test_receiving_an_item_inventory_no_longer_has_is_refused_and_writes_nothing(services, draft, as_im, action, body):
    # given: a draft of two items, one deleted from inventory since (a race with its delete)
    kept, gone = services.add_item(), services.add_item()
    order = draft([(kept, 2), (gone, 3)])
    del services.items[gone]
    before = _rows()
    payload = {"items": [{"item_id": kept, "quantity": 2}, {"item_id": gone, "quantity": 3}]} if body else None

    # when
    response = as_im.post(f"/orders/{order['id']}/{action}", payload, format="json")

    # then: a 409 naming the line, nothing written, no event
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "items.1.item_id", "message": "Inventory no longer has this item."}
    ]
    assert _rows() == before


@pytest.mark.parametrize(("action", "body"), [("receive", None), ("receipts", "items")])
def test_receiving_for_a_vendor_contact_svc_no_longer_has_is_refused_and_writes_nothing(
    services, draft, vendor_id, as_im, action, body
):
    # given: a draft whose vendor was deleted since (the order was created while the delete was in flight:
    # contact_svc asked purchase before the order was committed)
    item = services.add_item()
    order = draft([(item, 2)])
    del services.contacts["vendors"][vendor_id]
    before = _rows()
    payload = {"items": [{"item_id": item, "quantity": 2}]} if body else None

    # when
    response = as_im.post(f"/orders/{order['id']}/{action}", payload, format="json")

    # then: a 409 naming the vendor, nothing written, no event
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "vendor_id", "message": "contact_svc no longer has this vendor."}
    ]
    assert _rows() == before


def test_an_archived_item_is_refused_on_a_new_order(services, vendor_id, as_im):
    # given
    item = services.add_item()
    services.items[item]["active"] = False

    # when
    response = as_im.post(
        "/orders", {"vendor_id": vendor_id, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "items.0.item_id", "message": "Archived item."}]
    assert PurchaseOrder.objects.count() == 0


def test_an_archived_vendor_is_refused_on_a_new_order(services, vendor_id, as_im):
    # given
    services.contacts["vendors"][vendor_id]["active"] = False

    # when
    response = as_im.post(
        "/orders", {"vendor_id": vendor_id, "items": [{"item_id": services.add_item(), "quantity": 1}]}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "vendor_id", "message": "Archived vendor."}]
    assert PurchaseOrder.objects.count() == 0


def test_an_order_of_an_archived_item_still_completes(services, draft, as_fm):
    # given: the order was made before the item was archived
    item = services.add_item()
    order = draft([(item, 2)])
    services.items[item]["active"] = False

    # when
    received = as_fm.post(f"/orders/{order['id']}/receive")
    paid = as_fm.post(f"/orders/{order['id']}/pay")

    # then
    assert (received.status_code, paid.status_code) == (200, 200)
    assert paid.json()["data"]["status"] == "Paid"
