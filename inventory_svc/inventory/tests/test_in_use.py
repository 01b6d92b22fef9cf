"""Nothing in use is deleted (issue 26): an item on an order that is not cancelled is archived instead.

inventory_svc asks sales_svc and purchase_svc (faked here, ``order_services``) before it deletes;
an item they cannot vouch for is kept (503), never deleted on a guess.
"""

from __future__ import annotations

import uuid

import pytest

from erp_testkit.fake_services import closed_port_url

pytestmark = pytest.mark.django_db


def test_an_item_on_a_draft_purchase_order_is_not_deleted(make_item, as_fm, order_services, snapshot):
    # given: an order uses the item (one fake answers for sales_svc and purchase_svc alike)
    item = make_item()
    order = str(uuid.uuid4())
    order_services.use(f"/internal/items/{item.pk}/orders", [order])
    before = snapshot()

    # when
    response = as_fm.delete(f"/items/{item.pk}")

    # then: a 409 naming what uses it, asked of both order services; nothing changed
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "conflict"
    assert error["details"] == [
        {"field": "sales_orders", "message": f"On 1 sales order(s) that are not cancelled: {order}."},
        {"field": "purchase_orders", "message": f"On 1 purchase order(s) that are not cancelled: {order}."},
    ]
    assert order_services.calls(f"/internal/items/{item.pk}/orders") == [None, None]
    assert snapshot() == before


@pytest.mark.parametrize("down", ["SALES_SERVICE_URL", "PURCHASE_SERVICE_URL"])
def test_an_item_is_kept_while_an_order_service_cannot_say(make_item, as_fm, order_services, settings, snapshot, down):
    # given
    item = make_item()
    settings.ERP = {**settings.ERP, down: closed_port_url()}
    before = snapshot()

    # when
    response = as_fm.delete(f"/items/{item.pk}")

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert snapshot() == before


def test_an_item_no_order_uses_is_deleted(make_item, as_fm, order_services):
    # given
    item = make_item()

    # when
    response = as_fm.delete(f"/items/{item.pk}")

    # then
    assert response.status_code == 204
    assert as_fm.get(f"/items/{item.pk}").status_code == 404


def test_an_item_is_archived_instead_and_the_lookup_says_so(make_item, as_fm, as_service):
    # given
    item = make_item(sku="OLD-1")

    # when
    archived = as_fm.patch(f"/items/{item.pk}", {"active": False}, format="json")
    lookup = as_service.post("/internal/items/lookup", {"ids": [str(item.pk)]}, format="json")

    # then: still there, still moving stock for the orders that have it, refused on new ones (order_documents)
    assert archived.status_code == 200
    assert archived.json()["data"]["active"] is False
    assert [row["active"] for row in lookup.json()["data"]] == [False]
    assert as_fm.get("/items", {"active": "false"}).json()["meta"]["total"] == 1
    assert as_fm.get("/items", {"active": "true"}).json()["meta"]["total"] == 0


def test_a_new_item_is_active(as_fm):
    response = as_fm.post("/items", {"sku": "NEW-1", "name": "New", "unit_price": "1.00"}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["active"] is True
