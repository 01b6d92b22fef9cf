"""An order's references as they are now (issue 26): archived ones refused on new orders, gone ones at confirm."""

from __future__ import annotations

import threading
import uuid

import pytest

from common.events.models import OutboxEvent
from sales import services as sales_services
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db

LOOKUP, AVAILABILITY = "/internal/items/lookup", "/internal/stock/availability"


@pytest.mark.parametrize(
    ("allow_backorder", "asked"),
    [
        (False, AVAILABILITY),  # its availability check names the item unknown: no lookup as well
        (True, LOOKUP),  # stock is not asked about: the items are looked up
    ],
)
def test_confirming_an_item_inventory_no_longer_has_is_refused_and_writes_nothing(
    services, draft, as_fm, allow_backorder, asked
):
    # given: a draft whose second item was deleted from inventory since (a race with its delete)
    kept, gone = services.add_item(stock=5), services.add_item(stock=5)
    order = draft([(kept, 1), (gone, 1)])
    SalesOrder.objects.filter(pk=order["id"]).update(allow_backorder=allow_backorder)
    del services.items[gone]
    before = list(SalesOrder.objects.values())
    services.requests.clear()

    # when
    response = as_fm.post(f"/orders/{order['id']}/confirm")

    # then: one call to inventory, and a 409 naming the item
    assert [path for _, path, _ in services.requests if path.startswith("/internal")] == [asked]
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "items.1.item_id", "message": "Inventory no longer has this item."}
    ]
    assert list(SalesOrder.objects.values()) == before
    assert OutboxEvent.objects.count() == 0


def test_an_inventory_of_the_previous_release_still_has_gone_items_refused_as_gone(services, draft, as_fm):
    # given: a draft whose item was deleted since, and an inventory whose availability check names no unknown items
    gone = services.add_item(stock=5)
    order = draft([(gone, 1)])
    del services.items[gone]
    services.rewrite[AVAILABILITY] = lambda data: {name: value for name, value in data.items() if name != "unknown"}
    services.requests.clear()

    # when
    response = as_fm.post(f"/orders/{order['id']}/confirm")

    # then: the items looked up after the check, as before it named them, and the 409 naming the gone item
    assert [path for _, path, _ in services.requests if path.startswith("/internal")] == [AVAILABILITY, LOOKUP]
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "items.0.item_id", "message": "Inventory no longer has this item."}
    ]
    assert SalesOrder.objects.get(pk=order["id"]).status == "Draft"


def test_an_archived_customer_or_item_is_refused_on_a_new_order(services, customer_id, as_fm):
    # given
    archived_item, item = services.add_item(), services.add_item()
    services.items[archived_item]["active"] = False
    archived_customer = services.add_contact("customers", "Gone Ltd")
    services.contacts["customers"][archived_customer]["active"] = False

    # when
    by_item = as_fm.post(
        "/orders", {"customer_id": customer_id, "items": [{"item_id": archived_item, "quantity": 1}]}, format="json"
    )
    by_customer = as_fm.post(
        "/orders", {"customer_id": archived_customer, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )

    # then
    assert by_item.json()["error"]["details"] == [{"field": "items.0.item_id", "message": "Archived item."}]
    assert by_customer.json()["error"]["details"] == [{"field": "customer_id", "message": "Archived customer."}]
    assert (by_item.status_code, by_customer.status_code, SalesOrder.objects.count()) == (400, 400, 0)


def test_an_order_of_an_archived_item_still_confirms(services, draft, as_fm):
    # given
    item = services.add_item(stock=5)
    order = draft([(item, 2)])
    services.items[item]["active"] = False

    # when
    response = as_fm.post(f"/orders/{order['id']}/confirm")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "Confirmed"


def test_confirming_for_a_customer_contact_svc_no_longer_has_is_refused_and_writes_nothing(
    services, draft, customer_id, as_fm
):
    # given: a draft whose customer was deleted since (the order was created while the delete was in flight:
    # contact_svc asked sales before the order was committed)
    order = draft([(services.add_item(stock=5), 1)])
    del services.contacts["customers"][customer_id]
    before = list(SalesOrder.objects.values())

    # when
    response = as_fm.post(f"/orders/{order['id']}/confirm")

    # then: a 409 naming the customer, nothing written, no event
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "customer_id", "message": "contact_svc no longer has this customer."}
    ]
    assert list(SalesOrder.objects.values()) == before
    assert OutboxEvent.objects.count() == 0


def test_a_gone_customer_is_named_before_the_stock_a_confirm_lacks(services, draft, customer_id, as_fm):
    # given: the customer deleted since the draft, and too little stock as well
    order = draft([(services.add_item(stock=0), 3)])
    del services.contacts["customers"][customer_id]

    # when
    response = as_fm.post(f"/orders/{order['id']}/confirm")

    # then: the customer's refusal, as when contact_svc was asked first
    assert response.status_code == 409
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["customer_id"]
    assert OutboxEvent.objects.count() == 0


@pytest.mark.parametrize("allow_backorder", [False, True])
def test_a_confirm_asks_contact_svc_while_it_asks_inventory(services, draft, as_fm, monkeypatch, allow_backorder):
    # given: a customer check that answers only once inventory has been asked (asked one after the
    # other, the customer first, it would wait in vain and the confirm would fail)
    inventory_asked = threading.Event()
    inventory_question = "items_recheck" if allow_backorder else "_stock_check"
    ask_inventory, recheck_customer = getattr(sales_services, inventory_question), sales_services.customer_recheck

    def inventory_answers(**kwargs):
        inventory_asked.set()
        return ask_inventory(**kwargs)

    def customer_answers_after_inventory(**kwargs):
        assert inventory_asked.wait(timeout=10), "contact_svc was asked before inventory, not beside it"
        return recheck_customer(**kwargs)

    monkeypatch.setattr(sales_services, inventory_question, inventory_answers)
    monkeypatch.setattr(sales_services, "customer_recheck", customer_answers_after_inventory)
    item = services.add_item(stock=5)
    order = draft([(item, 1)])
    body = {"items": [{"item_id": item, "quantity": 1}], "allow_backorder": allow_backorder}
    assert as_fm.put(f"/orders/{order['id']}", body, format="json").status_code == 200

    # when
    response = as_fm.post(f"/orders/{order['id']}/confirm")

    # then
    assert response.status_code == 200, response.json()
    assert inventory_asked.is_set()


@pytest.mark.parametrize(
    "unknown",
    [
        lambda gone: "",  # not a list: it was read as "none unknown", and the gone item confirmed
        lambda gone: {},
        lambda gone: {gone: 1},  # a mapping of the gone item, not the contract's list
        lambda gone: [123],
        lambda gone: ["not-a-uuid"],
        lambda gone: [str(uuid.uuid4())],  # an item nobody asked about
    ],
    ids=["empty string", "empty object", "object", "number", "not a uuid", "not asked about"],
)
def test_an_unreadable_availability_answer_is_a_502_and_writes_nothing(services, draft, as_fm, unknown):
    # given: a draft whose second item was deleted, and an availability answer that is not the contract's
    kept, gone = services.add_item(stock=5), services.add_item(stock=5)
    order = draft([(kept, 1), (gone, 1)])
    del services.items[gone]
    services.rewrite[AVAILABILITY] = lambda data: {**data, "unknown": unknown(gone)}
    before = list(SalesOrder.objects.values())

    # when
    response = as_fm.post(f"/orders/{order['id']}/confirm")

    # then
    assert response.status_code == 502, response.json()
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert list(SalesOrder.objects.values()) == before
    assert OutboxEvent.objects.count() == 0
