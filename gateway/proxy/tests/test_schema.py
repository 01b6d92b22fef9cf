"""The merged OpenAPI document: gateway paths, unique components, no dangling $ref, down services named."""

import pytest
from django.test import Client
from openapi_spec_validator import validate

from proxy import schema
from proxy.schema import merge_documents

from .conftest import closed_port_url

ERROR_ENVELOPE = {"type": "object", "properties": {"status": {"type": "integer"}}}
LIST_META = {"type": "object", "properties": {"total": {"type": "integer"}}}
JWT = {"jwtAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(operation_id: str, schema_name: str | None = None, **extra) -> dict:
    content = {"application/json": {"schema": _ref(schema_name)}} if schema_name else None
    ok = {"description": "OK", **({"content": content} if content else {})}
    error = {"description": "Error", "content": {"application/json": {"schema": _ref("ErrorEnvelope")}}}
    return {"operationId": operation_id, "tags": ["x"], "responses": {"200": ok, "400": error}, **extra}


def _document(title: str, paths: dict, schemas: dict) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0"},
        "paths": {
            **paths,
            "/health/live": {"get": _operation("health_live_retrieve")},
            "/schema/": {"get": _operation("schema_retrieve")},
            "/metrics": {"get": _operation("metrics_retrieve")},
        },
        "components": {
            "schemas": {"ErrorEnvelope": ERROR_ENVELOPE, "ListMeta": LIST_META, **schemas},
            "securitySchemes": JWT,
        },
        "security": [{"jwtAuth": []}],
    }


def _id_param() -> list:
    return [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]


def _order(party: str) -> dict:
    return {
        "type": "object",
        "properties": {f"{party}_id": {"type": "string"}, "items": {"type": "array", "items": _ref("OrderLine")}},
    }


ORDER_LINE = {"type": "object", "properties": {"item_id": {"type": "string"}, "quantity": {"type": "integer"}}}
ORDER_PAGE = {"type": "object", "properties": {"data": {"type": "array", "items": _ref("Order")}}}

DOCUMENTS = {
    "contact": _document(
        "Contact service",
        {
            "/customers": {"get": _operation("customers_list", "Customer"), "post": _operation("customers_create")},
            "/customers/{id}": {"parameters": _id_param(), "get": _operation("customers_retrieve", "Customer")},
            "/vendors": {"get": _operation("vendors_list", "Vendor")},
        },
        {
            "Customer": {"type": "object", "properties": {"name": {"type": "string"}, "meta": _ref("ListMeta")}},
            "Vendor": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    ),
    "auth": _document(
        "Auth service",
        {
            "/login": {"post": _operation("login_create", "Login", security=[])},
            "/me": {"get": _operation("me_retrieve", "User")},
            "/users/{id}": {"parameters": _id_param(), "patch": _operation("users_partial_update", "User")},
            "/service-token": {"post": _operation("service_token_create", "Login", security=[])},
        },
        {"Login": {"type": "object"}, "User": {"type": "object", "properties": {"role": {"type": "string"}}}},
    ),
    "sales": _document(
        "Sales service",
        {
            "/orders": {"get": _operation("orders_list", "OrderPage")},
            "/orders/{id}/confirm": {"parameters": _id_param(), "post": _operation("orders_confirm", "Order")},
        },
        {"Order": _order("customer"), "OrderLine": ORDER_LINE, "OrderPage": ORDER_PAGE},
    ),
    "purchase": _document(
        "Purchase service",
        {
            "/orders": {"get": _operation("orders_list", "OrderPage")},
            "/orders/{id}/receive": {"parameters": _id_param(), "post": _operation("orders_receive", "Order")},
        },
        {"Order": _order("vendor"), "OrderLine": ORDER_LINE, "OrderPage": ORDER_PAGE},
    ),
}


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


@pytest.fixture
def schema_upstreams(upstreams, settings):
    for name, document in DOCUMENTS.items():
        upstreams[name].schema = document
    gateway = settings.GATEWAY
    settings.GATEWAY = {**gateway, "UPSTREAMS": {**gateway["UPSTREAMS"], "inventory": closed_port_url()}}
    return upstreams


def test_merged_schema_is_valid_openapi_with_gateway_paths(schema_upstreams):
    # when
    response = Client().get("/api/schema/")

    # then
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert sorted(document["paths"]) == [
        "/api/auth/login",
        "/api/auth/me",
        "/api/auth/users/{id}",
        "/api/customers",
        "/api/customers/{id}",
        "/api/purchase/orders",
        "/api/purchase/orders/{id}/receive",
        "/api/sales/orders",
        "/api/sales/orders/{id}/confirm",
        "/api/vendors",
    ]
    assert [received.target for received in schema_upstreams["sales"].received] == ["/schema/?format=json"]


def test_merged_components_are_unique_and_every_ref_resolves(schema_upstreams):
    # when
    document = Client().get("/api/schema/").json()

    # then
    schemas = document["components"]["schemas"]
    assert sorted(schemas) == [
        "Auth_Login",
        "Auth_User",
        "Contact_Customer",
        "Contact_Vendor",
        "ErrorEnvelope",
        "ListMeta",
        "OrderLine",
        "Purchase_Order",
        "Purchase_OrderPage",
        "Sales_Order",
        "Sales_OrderPage",
    ]
    assert document["components"]["securitySchemes"] == JWT
    defined = {f"#/components/{section}/{name}" for section, items in document["components"].items() for name in items}
    assert _refs(document) <= defined
    sales_page = document["paths"]["/api/sales/orders"]["get"]["responses"]["200"]["content"]["application/json"]
    assert sales_page["schema"] == _ref("Sales_OrderPage")
    assert schemas["Sales_OrderPage"]["properties"]["data"]["items"] == _ref("Sales_Order")
    assert schemas["Purchase_Order"]["properties"]["items"]["items"] == _ref("OrderLine")


def test_merged_operations_are_tagged_per_service_with_unique_ids(schema_upstreams):
    # when
    document = Client().get("/api/schema/").json()

    # then
    operations = [op for item in document["paths"].values() for key, op in item.items() if key != "parameters"]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert document["paths"]["/api/sales/orders"]["get"]["operationId"] == "sales_orders_list"
    assert document["paths"]["/api/sales/orders"]["get"]["tags"] == ["Sales"]
    assert document["paths"]["/api/auth/login"]["post"]["security"] == []
    assert document["paths"]["/api/auth/me"]["get"]["security"] == [{"jwtAuth": []}]
    assert [tag["name"] for tag in document["tags"]] == ["Contact", "Auth", "Sales", "Purchase"]


def test_unavailable_service_is_named_not_fatal(schema_upstreams):
    # when
    document = Client().get("/api/schema/").json()

    # then
    assert document["x-unavailable-services"] == ["inventory"]
    assert "inventory" in document["info"]["description"]
    assert not any(path.startswith("/api/items") for path in document["paths"])


def test_service_documents_are_cached(schema_upstreams):
    # given
    Client().get("/api/schema/")

    # when
    Client().get("/api/schema/")

    # then
    assert len(schema_upstreams["contact"].received) == 1


def test_the_merge_is_kept_while_every_service_document_is_the_cached_one(schema_upstreams, settings, monkeypatch):
    # given: /api/schema/ is never rate limited, and a merge that counts its calls
    merges = []
    merge = schema.merge_documents
    monkeypatch.setattr(schema, "merge_documents", lambda *args: merges.append(args) or merge(*args))

    # when: fifty requests while the services' documents are cached
    answers = {Client().get("/api/schema/").content for _ in range(50)}

    # then: merged once, the same document every time
    assert len(merges) == 1
    assert len(answers) == 1

    # when: the services' documents are fetched again (their cache expired)
    settings.GATEWAY = {**settings.GATEWAY, "SCHEMA_CACHE_SECONDS": 0.0}
    again = Client().get("/api/schema/")

    # then: merged anew
    assert len(merges) == 2
    assert again.content in answers


def test_differing_security_schemes_are_renamed_with_their_requirements():
    # given
    other = _document("Sales service", {"/orders": {"get": _operation("orders_list")}}, {})
    other["components"]["securitySchemes"] = {"jwtAuth": {"type": "http", "scheme": "basic"}}

    # when
    document = merge_documents({"contact": DOCUMENTS["contact"], "sales": other}, ["contact", "sales"])

    # then
    validate(document)
    assert sorted(document["components"]["securitySchemes"]) == ["Contact_jwtAuth", "Sales_jwtAuth"]
    assert document["paths"]["/api/sales/orders"]["get"]["security"] == [{"Sales_jwtAuth": []}]
    assert document["paths"]["/api/customers"]["get"]["security"] == [{"Contact_jwtAuth": []}]


def test_docs_pages_are_served_offline():
    # when
    pages = [Client().get("/api/docs/"), Client().get("/api/redoc/")]

    # then
    for page in pages:
        assert page.status_code == 200
        assert b"/api/schema/" in page.content
        assert b"https://" not in page.content and b"cdn." not in page.content
    assert b"swagger-ui" in pages[0].content
    assert b"redoc.standalone.js" in pages[1].content


def test_docs_assets_are_served_by_the_gateway():
    # when
    response = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")

    # then
    assert response.status_code == 200


def _form_bodies(schema_name: str) -> dict:
    media = {"schema": _ref(schema_name)}
    return {
        "content": {"application/json": media, "application/x-www-form-urlencoded": media, "multipart/form-data": media}
    }


def test_merged_operations_read_well_in_a_generated_client():
    # given ids as the services name them, and bodies in DRF's three media types
    auth = _document(
        "Auth service",
        {
            "/login": {"post": _operation("auth_login", "Login", security=[], requestBody=_form_bodies("Login"))},
            "/users": {"get": _operation("users_list", "User")},
        },
        {"Login": {"type": "object"}, "User": {"type": "object"}},
    )
    contact = _document("Contact service", {"/customers": {"get": _operation("customers_list")}}, {})
    sales = _document(
        "Sales service",
        {"/orders/{id}/confirm": {"parameters": _id_param(), "post": _operation("orders_confirm")}},
        {},
    )

    # when
    document = merge_documents({"auth": auth, "contact": contact, "sales": sales}, ["auth", "contact", "sales"])

    # then
    validate(document)
    ids = {
        (path, method): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }
    assert ids == {
        ("/api/auth/login", "post"): "auth_login",
        ("/api/auth/users", "get"): "auth_users_list",
        ("/api/customers", "get"): "customers_list",
        ("/api/sales/orders/{id}/confirm", "post"): "sales_orders_confirm",
    }
    assert list(document["paths"]["/api/auth/login"]["post"]["requestBody"]["content"]) == ["application/json"]
    assert document["paths"]["/api/sales/orders/{id}/confirm"]["post"]["tags"] == ["Sales"]


def test_components_only_unrouted_paths_use_drop_out():
    # given: /service-token is not routed by the gateway; Login refers to User
    auth = _document(
        "Auth service",
        {
            "/login": {"post": _operation("login_create", "Login", security=[])},
            "/service-token": {"post": _operation("service_token_create", "ServiceToken", security=[])},
        },
        {
            "Login": {"type": "object", "properties": {"user": _ref("User")}},
            "User": {"type": "object"},
            "ServiceToken": {"type": "object", "properties": {"detail": _ref("Detail")}},
            "Detail": {"type": "object"},
        },
    )

    # when
    document = merge_documents({"auth": auth}, ["auth"])

    # then: what a routed operation reaches stays, however deep; the security scheme too
    assert sorted(document["components"]["schemas"]) == ["Auth_Login", "Auth_User", "ErrorEnvelope"]
    assert document["components"]["securitySchemes"] == JWT
    validate(document)


def test_a_component_named_after_its_service_keeps_its_name():
    # given: sales calls its order SalesOrder; purchase has a SalesOrder of another shape
    order = _document(
        "Sales service",
        {"/orders": {"get": _operation("orders_list", "SalesOrder")}},
        {"SalesOrder": _order("customer"), "OrderLine": ORDER_LINE},
    )
    other = _document(
        "Purchase service",
        {"/orders": {"get": _operation("orders_list", "SalesOrder")}},
        {"SalesOrder": _order("vendor"), "OrderLine": ORDER_LINE},
    )

    # when
    document = merge_documents({"sales": order, "purchase": other}, ["sales", "purchase"])

    # then: no "Sales_SalesOrder" (SalesSalesOrder in a generated client), and still unique
    schemas = document["components"]["schemas"]
    assert sorted(schemas) == ["ErrorEnvelope", "OrderLine", "Purchase_SalesOrder", "SalesOrder"]
    assert schemas["SalesOrder"]["properties"]["customer_id"] == {"type": "string"}
    validate(document)


def test_public_operations_say_no_token_as_an_empty_security_list():
    # given: drf-spectacular's way of saying "no token" ([{}]), and an optional token
    auth = _document(
        "Auth service",
        {
            "/login": {"post": _operation("login_create", "Login", security=[{}])},
            "/register": {"post": _operation("register_create", "Login", security=[{"jwtAuth": []}, {}])},
        },
        {"Login": {"type": "object"}},
    )

    # when
    paths = merge_documents({"auth": auth}, ["auth"])["paths"]

    # then: a generator reads any non-empty list as "needs a token"
    assert paths["/api/auth/login"]["post"]["security"] == []
    assert paths["/api/auth/register"]["post"]["security"] == [{"jwtAuth": []}, {}]
