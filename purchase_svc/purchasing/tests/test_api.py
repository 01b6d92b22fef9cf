"""The purchase order API: create and replace lines, receive, pay, cancel, roles, errors in the envelope."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from common.events.models import OutboxEvent
from erp_testkit.fake_services import closed_port_url
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt

# Also run on SQLite (scripts/test.sh's sqlite lane), as the embedded local run keeps its data.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

UNKNOWN = "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01"


def post(client, order, action, **headers):
    return client.post(f"/orders/{order['id']}/{action}", **headers)


def status_of(order) -> str:
    return PurchaseOrder.objects.get(pk=order["id"]).status


def test_create_copies_vendor_and_items_with_exact_totals(services, vendor_id, as_im, outbox):
    # given
    bolt = services.add_item(sku="BOLT", name="Bolt", unit_price="0.10")
    body = {
        "vendor_id": vendor_id,
        "items": [{"item_id": bolt, "quantity": 3}, {"item_id": bolt, "quantity": 7, "unit_price": 19.99}],
    }

    # when
    response = as_im.post("/orders", body, format="json")

    # then
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["vendor_id"], data["vendor_name"], data["status"]) == (vendor_id, "Northwind Components", "Draft")
    assert "stock_status" not in data and data["received_at"] is None
    assert [(i["sku"], i["unit_price"], i["subtotal"]) for i in data["items"]] == [
        ("BOLT", 0.10, 0.30),
        ("BOLT", 19.99, 139.93),
    ]
    assert PurchaseOrder.objects.get().total_amount == Decimal("140.23")
    assert services.calls("/internal/items/lookup") == [{"ids": [bolt]}]
    assert outbox() == []


def test_create_unknown_vendor_or_item_is_validation_naming_the_field(services, vendor_id, as_admin):
    # given
    item = services.add_item()

    # when
    no_vendor = as_admin.post(
        "/orders", {"vendor_id": UNKNOWN, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )
    no_item = as_admin.post(
        "/orders",
        {"vendor_id": vendor_id, "items": [{"item_id": item, "quantity": 1}, {"item_id": UNKNOWN, "quantity": 1}]},
        format="json",
    )

    # then
    assert no_vendor.status_code == no_item.status_code == 400
    assert no_vendor.json()["error"]["details"] == [{"field": "vendor_id", "message": "Unknown vendor."}]
    assert no_item.json()["error"]["details"] == [{"field": "items.1.item_id", "message": "Unknown item."}]
    assert PurchaseOrder.objects.count() == 0


def test_create_missing_vendor_id_is_validation(services, as_admin):
    # when
    response = as_admin.post("/orders", {"items": [{"item_id": UNKNOWN, "quantity": 1}]}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "vendor_id", "message": "This field is required."}]
    assert services.requests == []


def test_create_with_contacts_down_is_503_and_writes_nothing(services, vendor_id, as_admin, settings, outbox):
    # given
    item = services.add_item()
    settings.ERP = {**settings.ERP, "CONTACT_SERVICE_URL": closed_port_url()}

    # when
    response = as_admin.post(
        "/orders", {"vendor_id": vendor_id, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert PurchaseOrder.objects.count() == 0
    assert outbox() == []


def test_put_replaces_lines_only_in_draft(services, draft, as_admin):
    # given
    item = services.add_item(unit_price="2.50")
    order = draft([(item, 1)])

    # when
    replaced = as_admin.put(f"/orders/{order['id']}", {"items": [{"item_id": item, "quantity": 4}]}, format="json")
    post(as_admin, order, "receive")
    refused = as_admin.put(f"/orders/{order['id']}", {"items": [{"item_id": item, "quantity": 9}]}, format="json")

    # then
    assert replaced.status_code == 200
    assert replaced.json()["data"]["total_amount"] == 10.00
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == [{"field": "status", "message": "order is Received, expected Draft"}]
    assert PurchaseOrderLine.objects.get(order_id=order["id"]).quantity == 4


def test_put_with_invalid_lines_leaves_the_draft_untouched(services, draft, as_admin):
    # given
    item = services.add_item(unit_price="2.50")
    order = draft([(item, 1)])

    # when
    response = as_admin.put(f"/orders/{order['id']}", {"items": [{"item_id": UNKNOWN, "quantity": 4}]}, format="json")

    # then
    assert response.status_code == 400
    assert as_admin.get(f"/orders/{order['id']}").json()["data"] == order


def test_receive_emits_received_with_the_lines(services, draft, as_im, outbox):
    # given
    item = services.add_item(unit_price="19.99")
    order = draft([(item, 7)])

    # when
    response = post(as_im, order, "receive")

    # then: one receipt of everything (purchase.order.received v2)
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "Received"
    assert response.json()["data"]["received_at"] is not None
    assert response.json()["data"]["received_amount"] == 139.93
    assert [line["quantity_received"] for line in response.json()["data"]["items"]] == [7]
    receipt = PurchaseReceipt.objects.get(order_id=order["id"])
    assert outbox() == [
        (
            "purchase.order.received",
            {
                "order_id": order["id"],
                "vendor_id": order["vendor_id"],
                "receipt_id": str(receipt.id),
                "status": "Received",
                "amount": Decimal("139.93"),
                "items": [
                    {"item_id": item, "quantity": 7, "unit_price": Decimal("19.99"), "subtotal": Decimal("139.93")}
                ],
            },
        )
    ]
    assert OutboxEvent.objects.get().version == 2


def test_receive_twice_is_409_and_emits_once(services, draft, as_im, outbox):
    # given
    order = draft([(services.add_item(), 1)])
    post(as_im, order, "receive")

    # when
    response = post(as_im, order, "receive")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "status", "message": "order is Received, expected Draft or PartiallyReceived"}
    ]
    assert [event for event, _ in outbox()] == ["purchase.order.received"]


def test_pay_needs_finance_and_a_received_order(services, draft, as_im, as_fm, outbox):
    # given
    order = draft([(services.add_item(unit_price="0.10"), 3)])

    # when
    early = post(as_fm, order, "pay")
    post(as_im, order, "receive")
    by_im = post(as_im, order, "pay")
    paid = post(as_fm, order, "pay")

    # then
    assert early.status_code == 409
    assert early.json()["error"]["details"] == [{"field": "status", "message": "order is Draft, expected Received"}]
    assert by_im.status_code == 403
    assert paid.status_code == 200 and paid.json()["data"]["status"] == "Paid"
    assert outbox()[-1] == (
        "purchase.order.paid",
        {"order_id": order["id"], "total_amount": Decimal("0.30"), "amount_paid": Decimal("0.30")},
    )


def test_cancel_a_draft_emits_cancelled(services, draft, as_im, outbox):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    response = post(as_im, order, "cancel")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "Cancelled"
    assert outbox() == [("purchase.order.cancelled", {"order_id": order["id"]})]


def test_cancel_a_received_order_is_409(services, draft, as_fm, outbox):
    # given
    order = draft([(services.add_item(), 1)])
    post(as_fm, order, "receive")

    # when
    response = post(as_fm, order, "cancel")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "status", "message": "order is Received, expected Draft"}]
    assert status_of(order) == "Received"
    assert [event for event, _ in outbox()] == ["purchase.order.received"]


@pytest.mark.parametrize("action", ["receive", "pay", "cancel"])
def test_transitions_refuse_service_tokens_and_unknown_orders(services, draft, as_service, as_admin, action):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    by_service = post(as_service, order, action)
    unknown = as_admin.post(f"/orders/{UNKNOWN}/{action}")
    malformed = as_admin.post(f"/orders/not-a-uuid/{action}")

    # then
    assert by_service.status_code == 403
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found"
    assert malformed.status_code == 400 and malformed.json()["error"]["type"] == "bad_request"
    assert status_of(order) == "Draft"


def test_read_needs_a_token(services, draft):
    # given
    draft([(services.add_item(), 1)])

    # when
    response = APIClient().get("/orders")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
