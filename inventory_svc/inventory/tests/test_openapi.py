"""The OpenAPI document of inventory_svc: valid, complete, and derived from the role table."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from common.roles import roles_for

OPERATIONS = {
    ("/items", "get"): "items.read",
    ("/items", "post"): "items.write",
    ("/items/{id}", "get"): "items.read",
    ("/items/{id}", "put"): "items.write",
    ("/items/{id}", "patch"): "items.write",
    ("/items/{id}", "delete"): "items.delete",
    ("/items/{id}/stock", "get"): "stock.read",
    ("/items/{id}/stock", "put"): "stock.adjust",
    ("/items/{id}/movements", "get"): "stock.read",
    ("/items/import", "post"): "items.write",
    ("/items/export", "get"): "items.read",
    ("/items/summary", "get"): "stock.read",
}
INTERNAL = {("/internal/items/lookup", "post"), ("/internal/stock/availability", "post")}


@pytest.fixture(scope="module")
def schema():
    response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_validates(schema):
    validate(schema)


def test_every_operation_is_documented_with_its_roles(schema):
    # given
    paths = schema["paths"]
    documented = {
        (path, method)
        for path, operations in paths.items()
        if path.startswith(("/items", "/internal"))
        for method in operations
        if method != "parameters"
    }

    # then
    assert documented == set(OPERATIONS) | INTERNAL
    for (path, method), permission in OPERATIONS.items():
        operation = paths[path][method]
        assert operation["summary"]
        assert f"Roles: {', '.join(roles_for(permission))}." in operation["description"]
        assert {"400", "401", "403"} <= set(operation["responses"])
    for path, method in INTERNAL:
        assert "service tokens only" in paths[path][method]["description"]


def test_stock_adjustment_and_conflicts_are_documented(schema):
    # given
    adjust = schema["paths"]["/items/{id}/stock"]["put"]

    # then
    body = adjust["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/StockAdjustmentRequest"}
    assert "inventory_manager" in adjust["description"] and "finance_manager" not in adjust["description"]
    assert adjust["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert "409" in schema["paths"]["/items/{id}"]["delete"]["responses"]


def test_list_documents_its_filters(schema):
    # given
    names = {parameter["name"] for parameter in schema["paths"]["/items"]["get"]["parameters"]}

    # then
    assert {"search", "ordering", "sku", "below_reorder_level", "created_after", "created_before", "limit"} <= names
