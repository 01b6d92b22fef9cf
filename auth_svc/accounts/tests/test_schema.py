"""The OpenAPI document of auth_svc: every operation documented, public ones without a token."""

import pytest
from rest_framework.test import APIClient

PUBLIC = {
    ("post", "/login"),
    ("post", "/refresh"),
    ("post", "/forgot-password"),
    ("post", "/reset-password"),
    ("post", "/service-token"),
}
PROTECTED = {
    ("post", "/logout"),
    ("get", "/me"),
    ("get", "/users"),
    ("post", "/users"),
    ("get", "/users/{id}"),
    ("patch", "/users/{id}"),
    ("post", "/users/{id}/deactivate"),
}
# Service tokens only, not routed by the gateway.
INTERNAL = {("get", "/internal/access-withdrawals")}


@pytest.fixture(scope="module")
def schema():
    return APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def operations(schema):
    return {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if not path.startswith("/health")
    }


def test_every_operation_is_documented(schema):
    # then
    ops = operations(schema)
    assert set(ops) == PUBLIC | PROTECTED | INTERNAL | {("post", "/register")}
    for key, operation in ops.items():
        assert operation.get("summary"), key
        assert operation.get("description"), key
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert "application/json" in operation["responses"][success]["content"], key
        if key[0] in ("post", "patch") and key[1] != "/users/{id}/deactivate":
            assert "requestBody" in operation, key


def test_public_operations_need_no_token(schema):
    ops = operations(schema)
    for key in PUBLIC:
        assert ops[key]["security"] == [], key  # common.openapi.public_without_token
    for key in PROTECTED:
        assert ops[key]["security"] == [{"jwtAuth": []}], key
        assert "Roles:" in ops[key]["description"], key
    assert ops[("post", "/register")]["security"] == [{"jwtAuth": []}, {}]
    for key in INTERNAL:
        assert ops[key]["security"] == [{"jwtAuth": []}], key


def test_admin_operations_name_the_admin_role(schema):
    ops = operations(schema)
    assert "Roles: admin." in ops[("get", "/users")]["description"]


def test_throttled_and_admin_only_register_are_documented(schema):
    # then
    ops = operations(schema)
    assert "429" in ops[("post", "/forgot-password")]["responses"]
    assert "429" in ops[("post", "/login")]["responses"]
    register = ops[("post", "/register")]
    assert "registering an `admin` always needs an admin token" in register["description"]
    assert {"401", "403"} <= set(register["responses"])


def test_the_idempotency_key_is_documented_where_answers_are_stored(schema):
    # common.openapi.AutoSchema: every POST the middleware serves, not the views whose answer carries tokens
    def takes_key(operation) -> bool:
        return any(param["name"] == "Idempotency-Key" for param in operation.get("parameters", []))

    ops = operations(schema)
    posts = {key for key in ops if key[0] == "post"}
    exempt = {("post", "/login"), ("post", "/refresh"), ("post", "/service-token")}
    assert {key for key in posts if takes_key(ops[key])} == posts - exempt
