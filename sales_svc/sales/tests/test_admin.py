"""The Django admin of sales orders: read-only once entered, transitions as actions through the services."""

import re

import pytest

from common.events import registry
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db

URL = "/admin/sales/salesorder/"


def test_admin_lists_filters_and_shows_lines_read_only(services, draft, admin_client):
    # given
    order = draft([(services.add_item(sku="SHOWN-SKU", unit_price="0.10"), 3)])

    # when
    listing = admin_client.get(URL, {"status__exact": "Draft"})
    detail = admin_client.get(f"{URL}{order['id']}/change/")

    # then
    assert listing.status_code == 200 and b"Acme Retail" in listing.content
    assert [str(row.pk) for row in listing.context["cl"].result_list] == [order["id"]]
    assert list(admin_client.get(URL, {"status__exact": "Paid"}).context["cl"].result_list) == []
    assert detail.status_code == 200
    assert b"SHOWN-SKU" in detail.content and b"0.30" in detail.content
    assert b'name="status"' not in detail.content and b'name="total_amount"' not in detail.content


def test_admin_cannot_delete_orders(services, draft, admin_client):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    delete = admin_client.post(f"{URL}{order['id']}/delete/", {"post": "yes"})

    # then
    assert delete.status_code == 403
    assert SalesOrder.objects.filter(pk=order["id"]).exists()


def test_admin_confirm_action_goes_through_the_service(services, draft, admin_client, outbox):
    # given
    ready = draft([(services.add_item(stock=5), 1)])
    short = draft([(services.add_item(stock=0), 1)])

    # when
    response = admin_client.post(
        URL, {"action": "confirm", "_selected_action": [ready["id"], short["id"]]}, follow=True
    )

    # then
    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert "Confirm selected orders: 1 order(s)." in messages
    assert any(message.startswith(short["id"]) and "requested 1, available 0" in message for message in messages)
    assert SalesOrder.objects.get(pk=ready["id"]).status == "Confirmed"
    assert SalesOrder.objects.get(pk=short["id"]).status == "Draft"
    assert [event for event, _ in outbox()] == ["sales.order.confirmed"]


def test_admin_cancel_while_stock_is_pending_shows_why_and_changes_nothing(services, draft, staff_login, outbox):
    # given: confirmed, inventory has not answered yet
    order = draft([(services.add_item(stock=5), 1)])
    finance = staff_login("finance_manager")
    finance.post(URL, {"action": "confirm", "_selected_action": [order["id"]]}, follow=True)
    before = (SalesOrder.objects.values().get(pk=order["id"]), outbox())

    # when
    response = finance.post(URL, {"action": "cancel", "_selected_action": [order["id"]]}, follow=True)

    # then
    assert [str(message) for message in response.context["messages"]] == [
        f"{order['id']}: The order's stock is not settled yet. "
        "stock_status is pending: inventory has not answered the confirmation yet"
    ]
    assert (SalesOrder.objects.values().get(pk=order["id"]), outbox()) == before
    assert list(SalesOrder.objects.get(pk=order["id"]).status_changes.values_list("to_status", flat=True)) == [
        "Confirmed"
    ]


def test_admin_pay_action_refuses_a_short_order(services, draft, admin_client, outbox, deliver, as_fm):
    # given: two confirmed orders, one issued and one inventory could not issue
    item = services.add_item(stock=5)
    issued, short = draft([(item, 1)]), draft([(item, 1)])
    for order in (issued, short):
        as_fm.post(f"/orders/{order['id']}/confirm")
    assert deliver(
        registry.STOCK_ISSUED,
        {"order_id": issued["id"], "items": [{"item_id": item, "quantity": 1, "quantity_after": 4}]},
    )
    assert deliver(
        registry.STOCK_SHORTAGE, {"order_id": short["id"], "items": [{"item_id": item, "requested": 1, "available": 0}]}
    )

    # when
    response = admin_client.post(URL, {"action": "pay", "_selected_action": [issued["id"], short["id"]]}, follow=True)

    # then
    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert "Mark selected orders paid: 1 order(s)." in messages
    assert any(message.startswith(short["id"]) and "stock_status is short" in message for message in messages)
    assert SalesOrder.objects.get(pk=issued["id"]).status == "Paid"
    assert (SalesOrder.objects.get(pk=short["id"]).status, SalesOrder.objects.get(pk=short["id"]).stock_status) == (
        "Confirmed",
        "short",
    )
    assert [event for event, _ in outbox()].count("sales.order.paid") == 1


def test_admin_shows_each_lines_issued_and_backordered_quantities(services, as_admin, customer_id, as_fm, admin_client):
    # given: a backorder-allowed order of 10, 6 issued and 4 waiting
    from erp_testkit.events import deliver

    item = services.add_item(sku="HALF-THERE")
    body = {"customer_id": customer_id, "allow_backorder": True, "items": [{"item_id": item, "quantity": 10}]}
    order = as_admin.post("/orders", body, format="json").json()["data"]
    as_fm.post(f"/orders/{order['id']}/confirm")
    progress = [{"item_id": item, "quantity_issued": 6, "quantity_backordered": 4}]
    deliver(registry.STOCK_BACKORDERED, {"order_id": order["id"], "items": progress})

    # when
    detail = admin_client.get(f"{URL}{order['id']}/change/")

    # then
    cells = re.findall(r'<td class="field-(quantity\w*)">\s*<p>(\d+)</p>', detail.content.decode())
    assert cells == [("quantity", "10"), ("quantity_issued", "6"), ("quantity_backordered", "4")]
