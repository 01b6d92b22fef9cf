"""The purchase order API's OpenAPI document: every operation summarised with its roles, transitions idempotent."""

from __future__ import annotations

import pytest

from common.roles import roles_for
from erp_testkit.orders import order_schema
from order_documents.models import MAX_QUANTITY

TRANSITION_PERMISSIONS = {
    "receipts": "purchase.receive",
    "receive": "purchase.receive",
    "close": "purchase.receive",
    "pay": "orders.pay",
    "cancel": "purchase.cancel",
}


@pytest.fixture(scope="module")
def schema():
    return order_schema()


def test_every_operation_is_documented_with_its_roles(schema):
    paths = schema["paths"]
    assert set(paths["/orders"]) == {"get", "post"}
    assert set(paths["/orders/{id}"]) - {"parameters"} == {"get", "put"}
    operations = [paths["/orders"]["get"], paths["/orders"]["post"], paths["/orders/{id}"]["get"]]
    operations += [paths["/orders/{id}"]["put"]]
    operations += [paths[f"/orders/{{id}}/{name}"]["post"] for name in TRANSITION_PERMISSIONS]
    for operation in operations:
        assert operation["summary"]
        assert "Roles: " in operation["description"]
        assert {"400", "401", "403"} <= set(operation["responses"])


def test_transition_docs_name_the_roles_that_hold_them(schema):
    for name, permission in TRANSITION_PERMISSIONS.items():
        operation = schema["paths"][f"/orders/{{id}}/{name}"]["post"]
        assert f"Roles: {', '.join(roles_for(permission))}." in operation["description"]
        assert "Idempotency-Key" in [parameter["name"] for parameter in operation["parameters"]]


def test_the_list_parameters_are_documented_from_the_filters(schema):
    # when
    parameters = {p["name"]: p.get("description", "") for p in schema["paths"]["/orders"]["get"]["parameters"]}

    # then: PurchaseOrderFilter's filters with their help_text, the pagination, search and ordering
    assert set(parameters) == {
        "status",
        "vendor_id",
        "closed_short",
        "origin",
        "stock_refused",
        "created_after",
        "created_before",
        "received_after",
        "received_before",
        "search",
        "ordering",
        "limit",
        "offset",
        "page",
        "size",
    }
    assert parameters["received_after"] == parameters["created_before"] == "ISO 8601, inclusive."
    assert parameters["search"] == "Words that must each appear in the vendor's name or a SKU."
    assert "* `Received` - Received" in parameters["status"]
    assert "* `PartiallyReceived` - Partially Received" in parameters["status"]


def test_the_receipts_list_is_documented_without_the_orders_filters(schema):
    # when
    operation = schema["paths"]["/orders/{id}/receipts"]["get"]

    # then
    assert operation["summary"] == "List an order's receipts"
    assert f"Roles: {', '.join(roles_for('orders.read'))}." in operation["description"]
    assert [parameter["name"] for parameter in operation["parameters"]] == ["id"]


def test_a_line_takes_the_quantities_every_order_document_shares(schema):
    # when
    quantity = schema["components"]["schemas"]["LineRequest"]["properties"]["quantity"]

    # then: order_documents' limit, published as it is enforced
    assert (quantity["minimum"], quantity["maximum"]) == (1, MAX_QUANTITY)
