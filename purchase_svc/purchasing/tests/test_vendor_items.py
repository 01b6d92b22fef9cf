"""Vendor items through the API: what a vendor sells an item at, checked with the owning services, one preferred."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from common.events import registry
from purchasing.models import PurchaseOrder, VendorItem

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

URL = "/vendor-items"


def _body(vendor_id, item_id, **fields) -> dict:
    return {"vendor_id": vendor_id, "item_id": item_id, "unit_cost": 1.5, **fields}


def test_create_copies_the_vendor_and_the_item_and_answers_the_vendor_item(services, vendor_id, as_im):
    # given
    item_id = services.add_item(sku="BOLT-6", name="Bolt M6")

    # when
    response = as_im.post(
        URL, _body(vendor_id, item_id, vendor_sku="NW-B6", pack_size=6, min_order_quantity=12), format="json"
    )

    # then
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert {key: data[key] for key in data if key not in ("id", "created_at", "updated_at")} == {
        "vendor_id": vendor_id,
        "vendor_name": "Northwind Components",
        "item_id": item_id,
        "sku": "BOLT-6",
        "vendor_sku": "NW-B6",
        "unit_cost": 1.5,
        "lead_time_days": 0,
        "min_order_quantity": 12,
        "pack_size": 6,
        "preferred": False,
    }
    assert VendorItem.objects.get(pk=data["id"]).item_name == "Bolt M6"


@pytest.mark.parametrize("field", ["vendor_id", "item_id"])
def test_an_unknown_vendor_or_item_is_a_400_naming_it_and_changes_nothing(services, vendor_id, as_fm, field):
    # given
    body = _body(vendor_id, services.add_item())
    body[field] = str(uuid.uuid4())

    # when
    response = as_fm.post(URL, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": field, "message": f"Unknown {field[:-3]}."}]
    assert VendorItem.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pack_size": 0}, "pack_size"),
        ({"min_order_quantity": 0}, "min_order_quantity"),
        ({"unit_cost": -0.01}, "unit_cost"),
        ({"unit_cost": 1.005}, "unit_cost"),
        ({"lead_time_days": -1}, "lead_time_days"),
    ],
)
def test_out_of_range_figures_are_a_400_naming_the_field(services, vendor_id, as_admin, fields, field):
    # when
    response = as_admin.post(URL, _body(vendor_id, services.add_item(), **fields), format="json")

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]
    assert VendorItem.objects.count() == 0


def test_a_second_vendor_item_of_one_vendor_and_item_is_a_409(services, vendor_id, as_admin):
    # given
    item_id = services.add_item()
    assert as_admin.post(URL, _body(vendor_id, item_id), format="json").status_code == 201

    # when
    response = as_admin.post(URL, _body(vendor_id, item_id, unit_cost=2), format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "item_id"
    assert list(VendorItem.objects.values_list("unit_cost", flat=True)) == [Decimal("1.50")]


def test_making_another_vendor_item_preferred_unsets_the_old_one(services, vendor_id, as_admin):
    # given: the item preferred from one vendor, also sold by a second
    item_id = services.add_item()
    other_vendor = services.add_contact("vendors", "Contoso Parts")
    first = as_admin.post(URL, _body(vendor_id, item_id, preferred=True), format="json").json()["data"]
    second = as_admin.post(URL, _body(other_vendor, item_id), format="json").json()["data"]

    # when
    response = as_admin.patch(f"{URL}/{second['id']}", {"preferred": True}, format="json")

    # then
    assert response.status_code == 200
    assert dict(VendorItem.objects.values_list("id", "preferred")) == {
        uuid.UUID(first["id"]): False,
        uuid.UUID(second["id"]): True,
    }


def test_a_new_preferred_vendor_item_unsets_the_old_one_too(services, vendor_id, as_admin):
    # given
    item_id = services.add_item()
    as_admin.post(URL, _body(vendor_id, item_id, preferred=True), format="json")

    # when
    other = services.add_contact("vendors", "Contoso Parts")
    response = as_admin.post(URL, _body(other, item_id, preferred=True), format="json")

    # then
    assert response.status_code == 201
    assert list(VendorItem.objects.filter(preferred=True).values_list("vendor_name", flat=True)) == ["Contoso Parts"]


def test_put_replaces_the_figures_but_never_the_vendor_or_the_item(services, vendor_id, as_fm):
    # given
    item_id = services.add_item()
    created = as_fm.post(URL, _body(vendor_id, item_id, pack_size=6), format="json").json()["data"]

    # when
    body = {"vendor_id": str(uuid.uuid4()), "item_id": str(uuid.uuid4()), "unit_cost": 2.25, "pack_size": 10}
    response = as_fm.put(f"{URL}/{created['id']}", body, format="json")

    # then
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["vendor_id"], data["item_id"], data["unit_cost"], data["pack_size"], data["min_order_quantity"]) == (
        vendor_id,
        item_id,
        2.25,
        10,
        1,
    )


def test_list_filters_by_vendor_item_and_preferred(services, vendor_id, as_im):
    # given: two items of the vendor, one preferred, and the first from another vendor too
    first, second = services.add_item(sku="A-1"), services.add_item(sku="B-1")
    other = services.add_contact("vendors", "Contoso Parts")
    for vendor, item, preferred in ((vendor_id, first, True), (vendor_id, second, False), (other, first, False)):
        assert as_im.post(URL, _body(vendor, item, preferred=preferred), format="json").status_code == 201

    def skus(**params) -> list[tuple[str, str]]:
        rows = as_im.get(URL, {**params, "ordering": "sku,vendor_name"}).json()["data"]
        return [(row["sku"], row["vendor_name"]) for row in rows]

    # then
    assert skus(vendor_id=vendor_id) == [("A-1", "Northwind Components"), ("B-1", "Northwind Components")]
    assert skus(item_id=first) == [("A-1", "Contoso Parts"), ("A-1", "Northwind Components")]
    assert skus(preferred="true") == [("A-1", "Northwind Components")]


def test_delete_answers_204_and_removes_it(services, vendor_id, as_fm):
    # given
    created = as_fm.post(URL, _body(vendor_id, services.add_item()), format="json").json()["data"]

    # when
    response = as_fm.delete(f"{URL}/{created['id']}")

    # then
    assert response.status_code == 204
    assert VendorItem.objects.count() == 0


def test_a_vendor_renamed_by_contact_events_is_renamed_on_its_vendor_items_once_newer(
    services, vendor_id, as_fm, deliver_contact
):
    # given
    as_fm.post(URL, _body(vendor_id, services.add_item()), format="json")
    data = {"vendor_id": vendor_id, "email": "a@example.com", "phone": "", "address": ""}

    # when: version 3, then a late version 2
    deliver_contact(registry.VENDOR_UPDATED, {**data, "name": "Northwind Ltd"}, version=3)
    deliver_contact(registry.VENDOR_UPDATED, {**data, "name": "Northwind (old)"}, version=2)

    # then
    assert list(VendorItem.objects.values_list("vendor_name", "vendor_version")) == [("Northwind Ltd", 3)]


def test_the_list_query_count_is_pinned_whatever_the_page_holds(services, vendor_id, as_im, django_assert_num_queries):
    # given
    for _ in range(3):
        as_im.post(URL, _body(vendor_id, services.add_item()), format="json")

    # when: the count and the page
    with django_assert_num_queries(2):
        response = as_im.get(URL)

    # then
    assert len(response.json()["data"]) == 3


def test_a_deleted_vendors_vendor_items_go_so_replenishment_orders_nothing_from_it(
    services, vendor_id, as_fm, deliver_contact, deliver
):
    # given: the vendor's preferred vendor item of an item reordered up to 20 (contact_svc deletes a vendor that no
    # order names, whatever its vendor items)
    item_id = services.add_item(sku="BOLT-6")
    as_fm.post(URL, _body(vendor_id, item_id, preferred=True), format="json")
    data = {"vendor_id": vendor_id, "name": "Northwind", "email": "a@example.com", "phone": "", "address": ""}

    # when: the vendor is deleted, then the item falls low
    deliver_contact(registry.VENDOR_DELETED, data, version=2)
    low = {"item_id": item_id, "sku": "BOLT-6", "quantity": 4, "backordered": 0, "reorder_level": 5, "max_level": 20}
    deliver(registry.STOCK_LOW_V2, low, aggregate_version=2)

    # then: no vendor item, no draft for a vendor that is gone; the item is listed as needing a vendor
    assert VendorItem.objects.count() == 0
    assert PurchaseOrder.objects.count() == 0
    assert [row["needed"] for row in as_fm.get("/replenishment").json()["data"]] == [16]


def test_an_archived_item_is_a_400_naming_it_and_changes_nothing(services, vendor_id, as_fm):
    # given: an item inventory has archived (no new order may name it, so replenishment may not either)
    item_id = services.add_item(sku="OLD-1")
    services.items[item_id]["active"] = False

    # when
    response = as_fm.post(URL, _body(vendor_id, item_id, preferred=True), format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "item_id", "message": "Archived item."}]
    assert VendorItem.objects.count() == 0
