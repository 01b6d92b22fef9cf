"""The item and stock API over HTTP: envelope, roles, errors, and nothing changed on refusal."""

from __future__ import annotations

import json
import unicodedata
import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from erp_testkit import auth_client
from inventory.models import Item, Stock, StockMovement

from .conftest import ledger_total, on_hand

pytestmark = pytest.mark.django_db

NEW = {"sku": " mon-27 ", "name": "27-inch monitor", "description": "IPS", "unit_price": 329.9, "reorder_level": 3}


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def body(item: Item, quantity: int) -> dict:
    return {
        "id": str(item.id),
        "sku": item.sku,
        "name": item.name,
        "description": item.description,
        "unit_price": float(item.unit_price),
        "reorder_level": item.reorder_level,
        "max_level": item.max_level,
        "active": item.active,
        "quantity": quantity,
        "backordered": 0,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


# --- create ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager", "admin"])
def test_create_returns_201_with_zero_stock_and_a_normalised_sku(role):
    # when
    response = auth_client(role).post("/items", NEW, format="json")

    # then
    assert response.status_code == 201, response.content
    item = Item.objects.get()
    assert response.json() == {"status": 201, "message": "Created", "data": body(item, 0)}
    assert (item.sku, str(item.unit_price), item.reorder_level) == ("MON-27", "329.90", 3)
    assert Stock.objects.get(item_id=item.pk).quantity == 0


def test_create_defaults_description_and_reorder_level(as_admin):
    # when
    response = as_admin.post("/items", {"sku": "A-1", "name": "A", "unit_price": 0}, format="json")

    # then
    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["description"], data["reorder_level"], data["max_level"], data["unit_price"], data["quantity"]) == (
        "",
        0,
        0,
        0.0,
        0,
    )


def test_create_keeps_the_max_level_replenishment_fills_up_to(as_im):
    # when
    body = {"sku": "A-1", "name": "A", "unit_price": 1, "reorder_level": 5, "max_level": 20}
    response = as_im.post("/items", body, format="json")

    # then
    assert response.status_code == 201
    assert response.json()["data"]["max_level"] == 20
    assert Item.objects.get().max_level == 20


def test_create_with_a_negative_zero_price_answers_the_zero_it_stored(as_admin):
    # when: "-0.00" passes "at least 0"; the database keeps it as 0.00
    response = as_admin.post("/items", {**NEW, "unit_price": "-0.00"}, format="json")

    # then: the answer shows what a later GET shows, not a -0.0 (floats kept as text to see the sign)
    assert response.status_code == 201
    created = json.loads(response.content, parse_float=str)["data"]
    fetched = json.loads(as_admin.get(f"/items/{created['id']}").content, parse_float=str)["data"]
    assert (created["unit_price"], fetched["unit_price"]) == ("0.0", "0.0")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "A", "unit_price": 1}, "sku"),
        ({"sku": "   ", "name": "A", "unit_price": 1}, "sku"),
        ({"sku": "X" * 65, "name": "A", "unit_price": 1}, "sku"),
        ({"sku": "A-1", "unit_price": 1}, "name"),
        ({"sku": "A-1", "name": "", "unit_price": 1}, "name"),
        ({"sku": "A-1", "name": "A"}, "unit_price"),
        ({"sku": "A-1", "name": "A", "unit_price": -1}, "unit_price"),
        ({"sku": "A-1", "name": "A", "unit_price": 1.001}, "unit_price"),
        ({"sku": "A-1", "name": "A", "unit_price": "abc"}, "unit_price"),
        ({"sku": "A-1", "name": "A", "unit_price": 10**13}, "unit_price"),
        ({"sku": "A-1", "name": "A", "unit_price": 1, "reorder_level": -1}, "reorder_level"),
        ({"sku": "A-1", "name": "A", "unit_price": 1, "reorder_level": 1.5}, "reorder_level"),
        ({"sku": "A-1", "name": "A", "unit_price": 1, "reorder_level": 2**31}, "reorder_level"),
        ({"sku": "A-1", "name": "A", "unit_price": 1, "max_level": -1}, "max_level"),
    ],
)
def test_create_invalid_is_400_naming_the_field_and_writes_nothing(as_admin, snapshot, payload, field):
    # given
    before = snapshot()

    # when
    response = as_admin.post("/items", payload, format="json")

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "validation"
    assert [detail["field"] for detail in error["details"]] == [field]
    assert snapshot() == before


def test_create_ignores_a_quantity_in_the_body(as_admin):
    # when: stock is never set as a number, only moved
    response = as_admin.post("/items", {**NEW, "quantity": 50}, format="json")

    # then
    assert response.status_code == 201
    assert response.json()["data"]["quantity"] == 0
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("sku", ["MON-27", "mon-27", "  Mon-27 "])
def test_create_duplicate_sku_is_409_in_any_case(make_item, as_admin, snapshot, sku):
    # given
    make_item(sku="MON-27")
    before = snapshot()

    # when
    response = as_admin.post("/items", {**NEW, "sku": sku}, format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "error": {
            "type": "conflict",
            "message": "An item with this SKU already exists.",
            "details": [{"field": "sku", "message": "An item with this SKU already exists."}],
        },
    }
    assert snapshot() == before


# Look-alikes of MON-27: full-width letters, a composed form, a leading non-breaking space.
@pytest.mark.parametrize("sku", ["\uff2d\uff2f\uff2e-27", "mo\u0301n-27", "\u00a0mon-27"])
def test_create_a_unicode_look_alike_of_a_taken_sku_is_409(make_item, as_admin, snapshot, sku):
    # given: the taken SKU in the same look-alike form, so only normalisation can tell them equal
    make_item(sku=unicodedata.normalize("NFKC", sku).strip().upper())
    before = snapshot()

    # when
    response = as_admin.post("/items", {**NEW, "sku": sku}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "sku", "message": "An item with this SKU already exists."}]
    assert snapshot() == before


@pytest.mark.parametrize("sku", ["\u200bMON-27", "MON\u00ad27", "MON-\u202e27", "MON\t27"])
def test_create_a_sku_with_invisible_characters_is_400_and_writes_nothing(as_admin, snapshot, sku):
    # given
    before = snapshot()

    # when
    response = as_admin.post("/items", {**NEW, "sku": sku}, format="json")

    # then: a zero-width space, soft hyphen, bidi override or tab would make a second MON-27 that looks the same
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "sku", "message": "A SKU may contain only visible characters and spaces."}
    ]
    assert snapshot() == before


def test_create_a_sku_that_normalises_past_the_length_limit_is_400(as_admin, snapshot):
    # given: 64 characters that upper-case to 128
    before = snapshot()

    # when
    response = as_admin.post("/items", {**NEW, "sku": "\u00df" * 64}, format="json")

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["sku"]
    assert snapshot() == before


def test_create_malformed_json_is_400_bad_request(as_admin, snapshot):
    # given
    before = snapshot()

    # when
    response = as_admin.post("/items", "{not json", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "bad_request"
    assert snapshot() == before


def test_create_replays_with_the_same_idempotency_key(as_admin):
    # given
    first = as_admin.post("/items", NEW, format="json", HTTP_IDEMPOTENCY_KEY="item-key-1")

    # when
    retry = as_admin.post("/items", NEW, format="json", HTTP_IDEMPOTENCY_KEY="item-key-1")

    # then
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert Item.objects.count() == 1


# --- auth and roles -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", ""), ("get", "/{id}"), ("put", "/{id}"), ("delete", "/{id}"), ("get", "/{id}/stock")],
)
def test_without_a_token_is_401(make_item, snapshot, method, suffix):
    # given
    item = make_item(stock=1)
    before = snapshot()

    # when
    response = getattr(APIClient(), method)("/items" + suffix.format(id=item.pk), NEW, format="json")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
    assert snapshot() == before


@pytest.mark.parametrize("caller", ["sales", "purchase"])
def test_the_order_services_tokens_search_the_item_list_with_stock_on_hand(make_item, caller):
    # given: their admins' order entry searches items by SKU or name, active ones only
    bolt = make_item(stock=120, sku="BOLT-10", name="Bolt")
    make_item(sku="BOLT-OLD", name="Old bolt", active=False)
    make_item(sku="NUT-10", name="Nut")

    # when
    response = auth_client(None, token_type="service", user_id=caller).get(
        "/items", {"search": "bolt", "active": "true", "limit": 20, "ordering": "sku"}
    )

    # then
    assert response.status_code == 200
    assert response.json()["data"] == [body(bolt, 120)]


@pytest.mark.parametrize("caller", ["gateway", "auth", "contact", "inventory"])
def test_no_other_services_token_lists_items(make_item, caller):
    # given
    make_item()

    # when
    response = auth_client(None, token_type="service", user_id=caller).get("/items")

    # then
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("post", "", NEW),
        ("get", "/{id}", None),
        ("patch", "/{id}", {"name": "X"}),
        ("delete", "/{id}", None),
        ("get", "/{id}/stock", None),
        ("put", "/{id}/stock", {"quantity": 1}),
        ("get", "/{id}/movements", None),
    ],
)
def test_a_service_token_is_refused_on_the_public_api(make_item, as_service, snapshot, method, suffix, payload):
    # given
    item = make_item()
    before = snapshot()

    # when
    response = getattr(as_service, method)("/items" + suffix.format(id=item.pk), payload, format="json")

    # then
    assert response.status_code == 403
    assert snapshot() == before


def test_inventory_manager_cannot_delete(make_item, as_im, snapshot):
    # given
    item = make_item()
    before = snapshot()

    # when
    response = as_im.delete(f"/items/{item.pk}")

    # then
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"
    assert snapshot() == before


def test_finance_manager_cannot_adjust_stock(make_item, as_fm, snapshot):
    # given
    item = make_item(stock=2)
    before = snapshot()

    # when
    response = as_fm.put(f"/items/{item.pk}/stock", {"quantity": 5}, format="json")

    # then
    assert response.status_code == 403
    assert snapshot() == before


# --- retrieve, update, delete -------------------------------------------------------------


def test_retrieve_returns_the_item_with_its_stock(make_item, as_fm):
    # given
    item = make_item(stock=7)

    # when
    response = as_fm.get(f"/items/{item.pk}")

    # then
    assert response.status_code == 200
    item.refresh_from_db()
    assert response.json() == {"status": 200, "message": "OK", "data": body(item, 7)}


@pytest.mark.parametrize("suffix", ["", "/stock", "/movements"])
def test_unknown_id_is_404(as_admin, suffix):
    # when
    response = as_admin.get(f"/items/{uuid.uuid4()}{suffix}")

    # then
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("put", ""), ("delete", ""), ("put", "/stock")])
def test_non_uuid_id_is_400_bad_request(as_admin, make_item, snapshot, method, suffix):
    # given
    make_item(stock=1)
    before = snapshot()

    # when
    response = getattr(as_admin, method)(f"/items/not-a-uuid{suffix}", {"quantity": 1}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "id", "message": "Must be a UUID."}]
    assert snapshot() == before


def test_put_replaces_every_field_and_keeps_stock(make_item, as_im):
    # given
    item = make_item(stock=4, description="Old", reorder_level=9)

    # when
    response = as_im.put(f"/items/{item.pk}", {"sku": "new-sku", "name": "New", "unit_price": "5.10"}, format="json")

    # then
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.sku, item.name, item.description, str(item.unit_price), item.reorder_level) == (
        "NEW-SKU",
        "New",
        "",
        "5.10",
        0,
    )
    assert response.json()["data"] == body(item, 4)


def test_patch_amends_only_the_given_fields(make_item, as_fm):
    # given
    item = make_item(name="Old", reorder_level=2)

    # when
    response = as_fm.patch(f"/items/{item.pk}", {"reorder_level": 8}, format="json")

    # then
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.name, item.reorder_level) == ("Old", 8)


def test_update_to_a_taken_sku_is_409_and_changes_nothing(make_item, as_admin, snapshot):
    # given
    make_item(sku="TAKEN")
    item = make_item(sku="MINE")
    before = snapshot()

    # when
    response = as_admin.patch(f"/items/{item.pk}", {"sku": "taken"}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "sku", "message": "An item with this SKU already exists."}]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "payload", "fields"),
    [
        ("put", {"name": "A"}, ["sku", "unit_price"]),
        ("patch", {"unit_price": -5}, ["unit_price"]),
        ("patch", {"sku": ""}, ["sku"]),
    ],
)
def test_invalid_update_is_400_and_changes_nothing(make_item, as_admin, snapshot, method, payload, fields):
    # given
    item = make_item()
    before = snapshot()

    # when
    response = getattr(as_admin, method)(f"/items/{item.pk}", payload, format="json")

    # then
    assert response.status_code == 400
    assert sorted(detail["field"] for detail in response.json()["error"]["details"]) == fields
    assert snapshot() == before


def test_delete_without_stock_is_204(make_item, as_fm):
    # given
    item = make_item()

    # when
    response = as_fm.delete(f"/items/{item.pk}")

    # then
    assert response.status_code == 204
    assert not Item.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_delete_takes_its_locks_in_a_transaction_of_its_own(make_item, as_fm):
    # given: no test transaction around the request, as in production (autocommit), where a lock
    # taken outside a transaction is an error
    item = make_item(reorder_level=4, unit_price=Decimal("2.00"))

    # when: a deletion, and an update that refreshes the stock row's summary figures (both lock it)
    updated = as_fm.patch(f"/items/{item.pk}", {"reorder_level": 2}, format="json")
    deleted = as_fm.delete(f"/items/{item.pk}")

    # then
    assert (updated.status_code, deleted.status_code) == (200, 204)
    assert not Item.objects.exists()


def test_delete_with_stock_on_hand_is_409_and_changes_nothing(make_item, as_admin, snapshot):
    # given
    item = make_item(stock=3)
    before = snapshot()

    # when
    response = as_admin.delete(f"/items/{item.pk}")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "error": {
            "type": "conflict",
            "message": "The item has 3 units on hand.",
            "details": [{"field": "quantity", "message": "The item has 3 units on hand."}],
        },
    }
    assert snapshot() == before


# --- stock -----------------------------------------------------------------------------------


def test_get_stock(make_item, as_fm):
    # given
    item = make_item(stock=6)
    stock = Stock.objects.get(item_id=item.pk)

    # when
    response = as_fm.get(f"/items/{item.pk}/stock")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": 200,
        "message": "OK",
        "data": {"item_id": str(item.pk), "quantity": 6, "updated_at": iso(stock.updated_at)},
    }


@pytest.mark.parametrize(("role", "change", "after"), [("inventory_manager", 5, 7), ("admin", -2, 0)])
def test_put_stock_applies_a_signed_change_and_records_it(make_item, role, change, after):
    # given
    item = make_item(stock=2)

    # when
    response = auth_client(role, email="who@example.com").put(
        f"/items/{item.pk}/stock", {"quantity": change, "reason": "stocktake"}, format="json"
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["data"]["quantity"] == after
    assert on_hand(item) == after == ledger_total(item)
    movement = StockMovement.objects.filter(item_id=item.pk).latest("created_at")
    assert (movement.change, movement.quantity_after, movement.reason, movement.note, movement.actor) == (
        change,
        after,
        "adjustment",
        "stocktake",
        "who@example.com",
    )


def test_put_stock_below_zero_is_409_and_writes_nothing(make_item, as_im, snapshot):
    # given
    item = make_item(stock=2)
    before = snapshot()

    # when
    response = as_im.put(f"/items/{item.pk}/stock", {"quantity": -3}, format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "error": {
            "type": "conflict",
            "message": "Insufficient stock.",
            "details": [
                {
                    "field": "quantity",
                    "message": f"item {item.pk}: requested 3, available 2",
                    "item_id": str(item.pk),
                    "requested": 3,
                    "available": 2,
                }
            ],
        },
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"quantity": 2**31}, "quantity"),
        ({"quantity": 1, "reason": "x" * 256}, "reason"),
    ],
)
def test_put_stock_invalid_is_400_and_writes_nothing(make_item, as_im, snapshot, payload, field):
    # given
    item = make_item(stock=1)
    before = snapshot()

    # when
    response = as_im.put(f"/items/{item.pk}/stock", payload, format="json")

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]
    assert snapshot() == before


def test_post_on_stock_is_405(make_item, as_im):
    # given
    item = make_item()

    # when
    response = as_im.post(f"/items/{item.pk}/stock", {"quantity": 1}, format="json")

    # then
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "method_not_allowed"


# --- movements ---------------------------------------------------------------------------


def test_movements_are_listed_newest_first_and_paged(make_item, as_fm, django_assert_num_queries):
    # given
    item = make_item(stock=5)
    for change in (-1, 3, -2):
        as_admin_client = auth_client("admin", email="admin@example.com")
        as_admin_client.put(f"/items/{item.pk}/stock", {"quantity": change}, format="json")
    make_item(stock=9)  # another item's ledger stays out

    # when
    with django_assert_num_queries(3):  # the item, the count, the page
        response = as_fm.get(f"/items/{item.pk}/movements", {"limit": 2, "offset": 1})

    # then
    assert response.status_code == 200
    payload = response.json()
    assert payload["meta"] == {"total": 4, "limit": 2, "offset": 1}
    assert [(m["change"], m["quantity_after"]) for m in payload["data"]] == [(3, 7), (-1, 4)]
    first = StockMovement.objects.get(item_id=item.pk, change=3)
    assert payload["data"][0] == {
        "id": str(first.id),
        "item_id": str(item.pk),
        "change": 3,
        "quantity_after": 7,
        "reason": "adjustment",
        "reference": None,
        "receipt_id": None,
        "note": "",
        "actor": "admin@example.com",
        "created_at": iso(first.created_at),
    }
