"""The purchase admin's order entry: drafts added and changed through the API's serializers and services.

The entry page itself is common.admin_entry with order_documents.forms, tested in full by sales' suite; here what is
purchase's own: the vendor searched and named, the purchase services called, a draft's lines
replaced, and a received order read-only.
"""

from decimal import Decimal

import pytest

from common.events.models import OutboxEvent
from erp_testkit.orders import entry_form
from purchasing.models import PurchaseOrder

pytestmark = pytest.mark.django_db

URL = "/admin/purchasing/purchaseorder/"


def test_an_inventory_manager_enters_a_purchase_draft(services, vendor_id, staff_login):
    # given
    item = services.add_item(sku="BOLT-10", unit_price="0.40")

    # when: 500 bolts at the vendor's 0.30
    response = staff_login("inventory_manager").post(
        f"{URL}add/", entry_form({"vendor_id": vendor_id}, [(item, "500", "0.30")])
    )

    # then
    order = PurchaseOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}{order.pk}/change/"
    assert (order.status, order.vendor_name, order.total_amount, order.origin) == (
        "Draft",
        "Northwind Components",
        Decimal("150.00"),
        "manual",
    )
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines.all()] == [
        ("BOLT-10", 500, Decimal("0.30"))
    ]


def test_an_archived_vendor_is_refused_on_the_vendor_field(services, vendor_id, staff_login):
    # given
    services.contacts["vendors"][vendor_id]["active"] = False
    item = services.add_item()

    # when
    response = staff_login("inventory_manager").post(
        f"{URL}add/", entry_form({"vendor_id": vendor_id}, [(item, "1", "")])
    )

    # then
    assert response.status_code == 200
    assert response.context["header"].errors == {"vendor_id": ["Archived vendor."]}
    assert (PurchaseOrder.objects.count(), OutboxEvent.objects.count()) == (0, 0)


def test_a_drafts_lines_are_replaced_and_the_vendor_kept(services, draft, staff_login):
    # given
    order = draft([(services.add_item(unit_price="2.00"), 1)])
    other = services.add_item(sku="OTHER", unit_price="3.00")

    # when: a vendor posted anyway is ignored (the field is disabled: the API's PUT takes lines only)
    response = staff_login("finance_manager").post(
        f"{URL}{order['id']}/change/",
        entry_form({"vendor_id": services.add_contact("vendors", "Elsewhere")}, [(other, "2", "")]),
    )

    # then
    assert response.status_code == 302
    saved = PurchaseOrder.objects.get(pk=order["id"])
    assert [(line.sku, line.quantity) for line in saved.lines.all()] == [("OTHER", 2)]
    assert (str(saved.vendor_id), saved.total_amount) == (order["vendor_id"], Decimal("6.00"))


def test_a_received_order_is_read_only_with_its_receipt_action(services, draft, staff_login):
    # given
    order = draft([(services.add_item(), 2)])
    receiving = staff_login("inventory_manager")
    receiving.post(URL, {"action": "receive", "_selected_action": [order["id"]], "index": "0"})
    order_id = order["id"]
    assert PurchaseOrder.objects.get(pk=order_id).status == "Received"

    # when
    page = receiving.get(f"{URL}{order_id}/change/")

    # then
    assert page.status_code == 200
    assert b'name="lines-0-item_id"' not in page.content and b'name="_save"' not in page.content
    assert b'name="run_cancel"' in page.content and b'name="run_pay"' not in page.content


def test_the_vendor_search_asks_contact_svc_for_vendors(services, staff_login):
    # given
    northwind = services.add_contact("vendors", "Northwind Components")
    services.add_contact("customers", "Northwind Retail")

    # when
    answer = staff_login("inventory_manager").get(f"{URL}search/party/", {"term": "northwind"}).json()

    # then
    assert [row["id"] for row in answer["results"]] == [northwind]
    assert services.requests[-1][1].startswith("/vendors?search=northwind&active=true")
