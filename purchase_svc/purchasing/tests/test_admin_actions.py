"""Transitions in the purchase admin: each an action calling the service, a refusal a message that changes nothing,
the status history written by the transitions (API or admin) and shown read-only, filters by vendor and status."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from common.roles import FINANCE_MANAGER, INVENTORY_MANAGER, role_has_permission
from erp_testkit.orders import admin_messages, order_state, status_history
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/purchasing/purchaseorder/"
ACTION_PERMISSIONS = {"receive": "purchase.receive", "pay": "orders.pay", "cancel": "purchase.cancel"}


def test_a_refused_transition_shows_a_message_and_changes_nothing(services, draft, staff_login):
    # given: a draft, which cannot be paid yet
    order = draft([(services.add_item(stock=5), 1)])
    finance = staff_login(FINANCE_MANAGER)
    before = order_state(PurchaseOrder, order["id"])

    # when
    response = finance.post(CHANGELIST, {"action": "pay", "_selected_action": [order["id"]]}, follow=True)

    # then
    assert response.status_code == 200
    [message] = admin_messages(response)
    assert message.startswith(order["id"]) and "order is Draft, expected" in message
    assert order_state(PurchaseOrder, order["id"]) == before


def test_an_admin_action_calls_the_service_and_is_kept_in_the_status_history(services, draft, staff_login):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    finance = staff_login(FINANCE_MANAGER, **{get_user_model().USERNAME_FIELD: "fm.staff@example.com"})

    # when
    response = finance.post(CHANGELIST, {"action": "cancel", "_selected_action": [order["id"]]}, follow=True)

    # then
    assert "Cancel selected orders: 1 order(s)." in admin_messages(response)
    assert PurchaseOrder.objects.get(pk=order["id"]).status == "Cancelled"
    assert status_history(PurchaseOrder, order["id"]) == [("Draft", "Cancelled", "fm.staff@example.com")]


def test_api_transitions_are_kept_in_the_status_history_with_the_callers_email(services, draft, as_fm):
    # given
    order = draft([(services.add_item(stock=5), 1)])

    # when
    response = as_fm.post(f"/orders/{order['id']}/cancel")

    # then
    assert response.status_code == 200, response.json()
    assert status_history(PurchaseOrder, order["id"]) == [("Draft", "Cancelled", "finance_manager@example.com")]


def test_staff_see_an_order_its_lines_and_history_read_only(services, draft, staff_login, as_fm):
    # given: a cancelled order, seen by the role with the fewest rights here
    order = draft([(services.add_item(sku="SHOWN-SKU", unit_price="2.50"), 3)])
    as_fm.post(f"/orders/{order['id']}/cancel")
    inventory = staff_login(INVENTORY_MANAGER)

    # when
    page = inventory.get(f"{CHANGELIST}{order['id']}/change/")

    # then: lines with their subtotal, the history, and nothing to type into or save
    assert page.status_code == 200
    content = page.content.decode()
    assert "SHOWN-SKU" in content and "7.50" in content
    assert "status history" in content.lower() and "finance_manager@example.com" in content
    for name in ("status", "total_amount", "lines-0-quantity", "status_changes-0-to_status", "_save"):
        assert f'name="{name}"' not in content


def test_orders_are_filtered_by_party_and_status(services, draft, vendor_id, staff_login, as_fm):
    # given: one order of the vendor (cancelled) and one of another vendor
    ours = draft([(services.add_item(), 1)])
    as_fm.post(f"/orders/{ours['id']}/cancel")
    other = PurchaseOrder.objects.create(vendor_id=services.add_contact("vendors"), vendor_name="Other Party")
    client = staff_login(INVENTORY_MANAGER)

    def listed(**params) -> set[str]:
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {str(row.pk) for row in response.context["cl"].result_list}

    # then
    assert listed() == {ours["id"], str(other.pk)}
    assert listed(vendor_id=vendor_id) == {ours["id"]}
    assert listed(status__exact="Cancelled") == {ours["id"]}
    assert listed(status__exact="Draft") == {str(other.pk)}
    sidebar = client.get(CHANGELIST).content.decode()
    assert "Other Party" in sidebar and f"vendor_id={vendor_id}" in sidebar


@pytest.mark.parametrize("role", [INVENTORY_MANAGER, FINANCE_MANAGER])
def test_an_action_the_role_lacks_is_neither_offered_nor_run(services, draft, staff_login, role):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    before = order_state(PurchaseOrder, order["id"])
    client = staff_login(role)
    offered = client.get(CHANGELIST).content.decode()

    for name, permission in ACTION_PERMISSIONS.items():
        # then: offered exactly to the roles holding the permission
        assert (f'value="{name}"' in offered) is role_has_permission(role, permission), name
        if role_has_permission(role, permission):
            continue

        # when: posted anyway
        response = client.post(CHANGELIST, {"action": name, "_selected_action": [order["id"]]}, follow=True)

        # then: Django refuses the unknown choice ("No action selected."), or, with no
        # action offered at all, shows the list again
        assert set(admin_messages(response)) <= {"No action selected."}
        assert order_state(PurchaseOrder, order["id"]) == before


def test_an_inventory_manager_records_a_receipt_through_the_service(services, draft, staff_login, outbox):
    # given: 100 bolts and 10 nuts ordered
    bolt, nut = services.add_item(sku="BOLT"), services.add_item(sku="NUT")
    order = draft([(bolt, 100), (nut, 10)])
    bolt_line, nut_line = PurchaseOrderLine.objects.filter(order_id=order["id"]).order_by("position")
    inventory = staff_login(INVENTORY_MANAGER, **{get_user_model().USERNAME_FIELD: "im.staff@example.com"})
    chosen = {"action": "record_receipt", "_selected_action": [order["id"]]}

    # when: the form, then 60 bolts
    form = inventory.post(CHANGELIST, chosen)
    response = inventory.post(
        CHANGELIST, {**chosen, "apply": "1", str(bolt_line.pk): 60, str(nut_line.pk): 0}, follow=True
    )

    # then
    assert form.status_code == 200 and "ordered 100, received 0, open 100" in form.content.decode()
    assert f"Receipt recorded: order {order['id']} is PartiallyReceived." in admin_messages(response)
    assert list(PurchaseOrderLine.objects.order_by("position").values_list("quantity_received", flat=True)) == [60, 0]
    assert PurchaseReceipt.objects.get().actor == "im.staff@example.com"
    assert [(event, data["items"][0]["quantity"]) for event, data in outbox()] == [("purchase.order.received", 60)]
    page = inventory.get(f"{CHANGELIST}{order['id']}/change/").content.decode()
    assert "60 x BOLT" in page


def test_an_item_on_two_lines_is_one_field_filling_its_lines_in_their_order(services, draft, staff_login, as_admin):
    # given: the same bolt on two lines at different agreed costs
    bolt = services.add_item(sku="BOLT")
    order = as_admin.post(
        "/orders",
        {
            "vendor_id": services.add_contact("vendors", "Two Prices"),
            "items": [
                {"item_id": bolt, "quantity": 5, "unit_price": "10.00"},
                {"item_id": bolt, "quantity": 5, "unit_price": "2.00"},
            ],
        },
        format="json",
    ).json()["data"]
    first, second = PurchaseOrderLine.objects.filter(order_id=order["id"]).order_by("position")
    inventory = staff_login(INVENTORY_MANAGER)
    chosen = {"action": "record_receipt", "_selected_action": [order["id"]]}

    # when: the form, then 7 bolts
    form = inventory.post(CHANGELIST, chosen).content.decode()
    response = inventory.post(CHANGELIST, {**chosen, "apply": "1", str(first.pk): 7}, follow=True)

    # then: one field for the bolt (a field per line would promise the second line units the service puts on the first)
    assert "ordered 10, received 0, open 10" in form
    assert f'name="{second.pk}"' not in form
    assert f"Receipt recorded: order {order['id']} is PartiallyReceived." in admin_messages(response)
    assert list(PurchaseOrderLine.objects.order_by("position").values_list("quantity_received", flat=True)) == [5, 2]
    assert PurchaseOrder.objects.get(pk=order["id"]).received_amount == Decimal("54.00")


def test_a_receipt_of_nothing_is_refused_by_the_form(services, draft, staff_login):
    # given
    order = draft([(services.add_item(), 10)])
    before = order_state(PurchaseOrder, order["id"])
    line = PurchaseOrderLine.objects.get()
    inventory = staff_login(INVENTORY_MANAGER)

    # when
    response = inventory.post(
        CHANGELIST, {"action": "record_receipt", "_selected_action": [order["id"]], "apply": "1", str(line.pk): 0}
    )

    # then
    assert "Enter what arrived on at least one line." in response.content.decode()
    assert order_state(PurchaseOrder, order["id"]) == before
    assert PurchaseReceipt.objects.count() == 0


def test_an_inventory_manager_closes_an_order_short(services, draft, staff_login, as_im):
    # given: partially received
    bolt = services.add_item()
    order = draft([(bolt, 10)])
    as_im.post(f"/orders/{order['id']}/receipts", {"items": [{"item_id": bolt, "quantity": 4}]}, format="json")
    inventory = staff_login(INVENTORY_MANAGER)

    # when
    response = inventory.post(CHANGELIST, {"action": "close_short", "_selected_action": [order["id"]]}, follow=True)

    # then
    assert "Close selected orders short: 1 order(s)." in admin_messages(response)
    row = PurchaseOrder.objects.get(pk=order["id"])
    assert (row.status, row.closed_short) == ("Received", True)
