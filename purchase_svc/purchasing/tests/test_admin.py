"""The Django admin of purchase orders: read-only, transitions as actions through the services."""

import pytest

from purchasing.models import PurchaseOrder

# Also run on SQLite (scripts/test.sh's sqlite lane), as the embedded local run keeps its data.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

URL = "/admin/purchasing/purchaseorder/"


def test_admin_shows_lines_and_receives_through_the_service(services, draft, admin_client, outbox):
    # given
    order = draft([(services.add_item(sku="SHOWN-SKU", unit_price="19.99"), 7)])

    # when
    detail = admin_client.get(f"{URL}{order['id']}/change/")
    response = admin_client.post(URL, {"action": "receive", "_selected_action": [order["id"]]}, follow=True)
    again = admin_client.post(URL, {"action": "receive", "_selected_action": [order["id"]]}, follow=True)

    # then
    assert detail.status_code == 200 and b"SHOWN-SKU" in detail.content and b"139.93" in detail.content
    assert b'name="status"' not in detail.content
    assert "Receive selected orders: 1 order(s)." in [str(m) for m in response.context["messages"]]
    assert any("order is Received, expected Draft" in str(m) for m in again.context["messages"])
    assert PurchaseOrder.objects.get(pk=order["id"]).status == "Received"
    assert [event for event, _ in outbox()] == ["purchase.order.received"]
