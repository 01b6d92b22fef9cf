"""The admin of replenishment: vendor items through the services, drafts by origin, the items needing a vendor."""

import uuid

import pytest

from common.events import registry
from purchasing.models import PurchaseOrder, VendorItem

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

VENDOR_ITEMS = "/admin/purchasing/vendoritem/"


def _form(vendor_id, item_id, **fields) -> dict:
    return {
        "vendor_id": vendor_id,
        "item_id": item_id,
        "vendor_sku": "",
        "unit_cost": "1.50",
        "lead_time_days": "0",
        "min_order_quantity": "6",
        "pack_size": "6",
        "preferred": "on",
        **fields,
    }


def test_admin_adds_a_vendor_item_through_the_service(services, vendor_id, admin_client):
    # given
    item_id = services.add_item(sku="ADM-BOLT", name="Admin bolt")

    # when
    response = admin_client.post(f"{VENDOR_ITEMS}add/", _form(vendor_id, item_id))

    # then: the vendor's name and the item's SKU come from their services
    assert response.status_code == 302, response.content
    created = VendorItem.objects.get()
    assert (created.vendor_name, created.sku, created.pack_size, created.preferred) == (
        "Northwind Components",
        "ADM-BOLT",
        6,
        True,
    )


def test_admin_refuses_an_unknown_item_and_adds_nothing(services, vendor_id, admin_client):
    # when
    response = admin_client.post(f"{VENDOR_ITEMS}add/", _form(vendor_id, str(uuid.uuid4())), follow=True)

    # then
    assert [str(message) for message in response.context["messages"]] == ["Validation failed."]
    assert VendorItem.objects.count() == 0


def test_admin_lists_the_items_needing_a_vendor_and_filters_orders_by_origin(
    services, vendor_id, draft, admin_client, deliver
):
    # given: an item low without a preferred vendor item (20 - 2 = 18), and a manual draft of 1 of it
    item_id = services.add_item(sku="NO-VENDOR")
    data = {"item_id": item_id, "sku": "NO-VENDOR", "quantity": 2, "backordered": 0, "reorder_level": 5}
    deliver(registry.STOCK_LOW_V2, {**data, "max_level": 20}, aggregate_version=2)
    manual = draft([(item_id, 1)])

    # when
    needs = admin_client.get("/admin/purchasing/lowstockitem/")
    replenishment = admin_client.get("/admin/purchasing/purchaseorder/", {"origin__exact": "replenishment"})
    manual_orders = admin_client.get("/admin/purchasing/purchaseorder/", {"origin__exact": "manual"})

    # then
    assert b"NO-VENDOR" in needs.content
    assert b'<td class="field-on_order">1</td><td class="field-needed">17</td>' in needs.content
    assert manual["id"].encode() not in replenishment.content
    assert manual["id"].encode() in manual_orders.content
    assert PurchaseOrder.objects.filter(origin="replenishment").count() == 0
