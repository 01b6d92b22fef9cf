"""POST /orders and PUT /orders/{id}: references checked with their services, exact totals, atomic lines."""

from decimal import Decimal

import pytest

from erp_testkit.fake_services import closed_port_url
from sales.models import SalesOrder, SalesOrderLine

pytestmark = pytest.mark.django_db

LOOKUP, AVAILABILITY = "/internal/items/lookup", "/internal/stock/availability"


def test_create_copies_names_and_prices_with_exact_totals(services, customer_id, as_im, outbox):
    # given
    dime = services.add_item(sku="DIME", name="Dime", unit_price="0.10")
    pricey = services.add_item(sku="PRICEY", name="Pricey", unit_price="5.00")
    body = {
        "customer_id": customer_id,
        "items": [{"item_id": dime, "quantity": 3}, {"item_id": pricey, "quantity": 7, "unit_price": 19.99}],
    }

    # when
    response = as_im.post("/orders", body, format="json")

    # then
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["customer_id"] == customer_id
    assert data["customer_name"] == "Acme Retail"
    assert (data["status"], data["stock_status"]) == ("Draft", None)
    assert data["total_amount"] == 140.23
    assert [(i["sku"], i["name"], i["quantity"], i["unit_price"], i["subtotal"]) for i in data["items"]] == [
        ("DIME", "Dime", 3, 0.10, 0.30),
        ("PRICEY", "Pricey", 7, 19.99, 139.93),
    ]
    order = SalesOrder.objects.get(pk=data["id"])
    assert order.total_amount == Decimal("140.23")
    assert [line.subtotal for line in order.lines.all()] == [Decimal("0.30"), Decimal("139.93")]
    assert outbox() == []


def test_the_create_and_replace_answers_are_what_a_read_of_the_order_answers(services, customer_id, as_im):
    # given: the lines written are held for the answer (order_documents.lines_write), not read back
    cheap, pricey = services.add_item(unit_price="0.10"), services.add_item(unit_price="19.99")
    body = {
        "customer_id": customer_id,
        "items": [{"item_id": pricey, "quantity": 7}, {"item_id": cheap, "quantity": 3}],
    }

    # when
    created = as_im.post("/orders", body, format="json").json()["data"]
    read_created = as_im.get(f"/orders/{created['id']}").json()["data"]
    lines = {"items": [{"item_id": cheap, "quantity": 4}, {"item_id": cheap, "quantity": 1}]}
    replaced = as_im.put(f"/orders/{created['id']}", lines, format="json").json()["data"]

    # then: the same order, line for line, as the database holds it, after a create and a replacement
    assert read_created == created
    assert as_im.get(f"/orders/{created['id']}").json()["data"] == replaced


def test_create_asks_inventory_once_for_every_item_with_a_service_token(services, customer_id, as_admin):
    # given
    items = [services.add_item() for _ in range(3)]
    body = {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1} for item in [*items, items[0]]]}

    # when
    response = as_admin.post("/orders", body, format="json", HTTP_X_REQUEST_ID="req-create-1")

    # then
    assert response.status_code == 201
    assert services.calls(LOOKUP) == [{"ids": items}]
    # Both calls (the customer's on a pool thread) carry the caller's request id.
    assert {path: rid for path, rid in services.request_ids if path != "/service-token"} == {
        LOOKUP: "req-create-1",
        f"/customers/{customer_id}": "req-create-1",
    }
    assert services.calls(f"/customers/{customer_id}") == [None]
    # The service's own token, fetched from auth, never the caller's.
    assert {auth for path, auth in services.authorizations if path != "/service-token"} == {"Bearer test-token"}


def test_create_unknown_customer_is_validation_and_writes_nothing(services, as_admin, outbox):
    # given
    item = services.add_item()
    body = {"customer_id": "6f1c7bde-5a43-4d7a-9d8f-0c7e3f6b8a11", "items": [{"item_id": item, "quantity": 1}]}

    # when
    response = as_admin.post("/orders", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation"
    assert response.json()["error"]["details"] == [{"field": "customer_id", "message": "Unknown customer."}]
    assert SalesOrder.objects.count() == 0
    assert outbox() == []


def test_create_unknown_item_names_its_line(services, customer_id, as_admin):
    # given
    known = services.add_item()
    unknown = "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01"
    body = {
        "customer_id": customer_id,
        "items": [{"item_id": known, "quantity": 1}, {"item_id": unknown, "quantity": 2}],
    }

    # when
    response = as_admin.post("/orders", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "items.1.item_id", "message": "Unknown item."}]
    assert SalesOrder.objects.count() == 0
    assert SalesOrderLine.objects.count() == 0


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ([{"item_id": "not-a-uuid", "quantity": 1}], "items.0.item_id"),
        ([{"item_id": "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01", "quantity": 0}], "items.0.quantity"),
        ([{"item_id": "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01", "quantity": 1, "unit_price": -1}], "items.0.unit_price"),
        (
            [{"item_id": "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01", "quantity": 1, "unit_price": 0.001}],
            "items.0.unit_price",
        ),
        ([{"item_id": "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01", "quantity": 1}] * 101, "items"),
    ],
)
def test_create_bad_lines_are_validation_without_calls(services, customer_id, as_admin, items, field):
    # when
    response = as_admin.post("/orders", {"customer_id": customer_id, "items": items}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation"
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]
    assert services.requests == []
    assert SalesOrder.objects.count() == 0


def test_create_amount_too_large_to_store_is_validation(services, customer_id, as_admin):
    # given
    item = services.add_item(unit_price="999999999.99")
    body = {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1_000_000}]}

    # when
    response = as_admin.post("/orders", body, format="json")

    # then
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == ["items.0.quantity"]
    assert SalesOrder.objects.count() == 0


def test_create_with_inventory_down_is_503_and_writes_nothing(services, customer_id, as_admin, settings, outbox):
    # given
    item = services.add_item()
    settings.ERP = {**settings.ERP, "INVENTORY_SERVICE_URL": closed_port_url()}

    # when
    response = as_admin.post(
        "/orders", {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert SalesOrder.objects.count() == 0
    assert outbox() == []


def test_create_with_contacts_slow_is_504_and_writes_nothing(services, customer_id, as_admin, settings):
    # given
    item = services.add_item()
    settings.ERP = {**settings.ERP, "HTTP_TIMEOUT": 0.5}
    services.delay = 1.0  # the client waits HTTP_TIMEOUT = 0.5 s

    # when
    response = as_admin.post(
        "/orders", {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )

    # then
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "upstream_timeout"
    assert SalesOrder.objects.count() == 0


def test_create_with_inventory_failing_is_502(services, customer_id, as_admin):
    # given
    item = services.add_item()
    services.status_override[LOOKUP] = 500

    # when
    response = as_admin.post(
        "/orders", {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )

    # then
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert SalesOrder.objects.count() == 0


def test_create_refuses_service_tokens(services, customer_id, as_service):
    # given
    item = services.add_item()

    # when
    response = as_service.post(
        "/orders", {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1}]}, format="json"
    )

    # then
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"
    assert SalesOrder.objects.count() == 0


def test_create_is_idempotent_with_a_key(services, customer_id, as_admin):
    # given
    item = services.add_item()
    body = {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1}]}

    # when
    first = as_admin.post("/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    again = as_admin.post("/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")

    # then
    assert first.status_code == again.status_code == 201
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert SalesOrder.objects.count() == 1


def test_put_replaces_lines_of_a_draft(services, draft, as_im):
    # given
    old, new = services.add_item(unit_price="2.00"), services.add_item(sku="NEW", unit_price="0.10")
    order = draft([(old, 1)])

    # when
    response = as_im.put(f"/orders/{order['id']}", {"items": [{"item_id": new, "quantity": 3}]}, format="json")

    # then
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert [(i["sku"], i["quantity"], i["subtotal"]) for i in data["items"]] == [("NEW", 3, 0.30)]
    assert data["total_amount"] == 0.30
    assert SalesOrderLine.objects.filter(order_id=order["id"]).count() == 1


def test_put_with_an_unknown_item_leaves_the_draft_untouched(services, draft, as_admin):
    # given
    item = services.add_item(unit_price="2.00")
    order = draft([(item, 2)])
    before = SalesOrder.objects.get(pk=order["id"])
    body = {
        "items": [{"item_id": item, "quantity": 5}, {"item_id": "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01", "quantity": 1}]
    }

    # when
    response = as_admin.put(f"/orders/{order['id']}", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "items.1.item_id", "message": "Unknown item."}]
    after = SalesOrder.objects.get(pk=order["id"])
    assert (after.total_amount, after.revision, after.updated_at) == (
        before.total_amount,
        before.revision,
        before.updated_at,
    )
    assert list(after.lines.values_list("item_id", "quantity")) == [(before.lines.get().item_id, 2)]


def test_put_on_a_confirmed_order_is_409_naming_the_status(services, draft, as_admin):
    # given
    item = services.add_item(stock=5)
    order = draft([(item, 1)])
    assert as_admin.post(f"/orders/{order['id']}/confirm").status_code == 200
    lookups = len(services.calls(LOOKUP))

    # when
    response = as_admin.put(f"/orders/{order['id']}", {"items": [{"item_id": item, "quantity": 2}]}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "status", "message": "order is Confirmed, expected Draft"}]
    assert len(services.calls(LOOKUP)) == lookups  # refused before asking inventory
    assert SalesOrderLine.objects.get(order_id=order["id"]).quantity == 1


def test_get_one_and_unknown_and_malformed_ids(services, draft, as_im):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    found = as_im.get(f"/orders/{order['id']}")
    missing = as_im.get("/orders/0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01")
    malformed = as_im.get("/orders/nope")

    # then
    assert found.status_code == 200 and found.json()["data"] == order
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"
    assert malformed.status_code == 400 and malformed.json()["error"]["type"] == "bad_request"


def test_delete_and_patch_are_405(services, draft, as_admin):
    # given
    order = draft([(services.add_item(), 1)])

    # when / then
    assert as_admin.delete(f"/orders/{order['id']}").status_code == 405
    assert as_admin.patch(f"/orders/{order['id']}", {}, format="json").status_code == 405
    assert SalesOrder.objects.filter(pk=order["id"]).exists()


def test_create_with_unknown_customer_and_item_names_the_customer_first(services, as_admin):
    # given
    body = {
        "customer_id": "6f1c7bde-5a43-4d7a-9d8f-0c7e3f6b8a11",
        "items": [{"item_id": "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01", "quantity": 1}],
    }

    # when
    response = as_admin.post("/orders", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "customer_id", "message": "Unknown customer."}]
    assert SalesOrder.objects.count() == 0
