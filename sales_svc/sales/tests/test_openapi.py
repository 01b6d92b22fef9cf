"""The OpenAPI document of the order API: every operation documented, roles from common.roles."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.roles import roles_for


@pytest.fixture(scope="module")
def schema():
    response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_is_documented_with_its_roles(schema):
    paths = schema["paths"]
    assert set(paths["/orders"]) == {"get", "post"}
    assert set(paths["/orders/{id}"]) - {"parameters"} == {"get", "put"}
    transitions = ["confirm", "pay", "cancel"]
    assert {f"/orders/{{id}}/{name}" for name in transitions} <= set(paths)
    operations = [paths["/orders"]["get"], paths["/orders"]["post"], paths["/orders/{id}"]["get"]]
    operations += [paths["/orders/{id}"]["put"]] + [paths[f"/orders/{{id}}/{name}"]["post"] for name in transitions]
    for operation in operations:
        assert operation["summary"]
        assert "Roles: " in operation["description"]
        assert {"400", "401", "403"} <= set(operation["responses"])


def test_transition_docs_name_the_roles_that_hold_them(schema):
    paths = schema["paths"]
    for name, permission in (("confirm", "sales.confirm"), ("pay", "orders.pay"), ("cancel", "sales.cancel")):
        description = paths[f"/orders/{{id}}/{name}"]["post"]["description"]
        assert f"Roles: {', '.join(roles_for(permission))}." in description
        assert "Idempotency-Key" in description
