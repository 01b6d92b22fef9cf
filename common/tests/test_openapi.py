"""The OpenAPI document describes the envelope the renderer really sends."""

import pytest
from rest_framework.test import APIClient

from common import exceptions
from common.exceptions import ERROR_TYPES
from common.openapi import named_parameter_enums, readable_operation_ids
from common.pagination import MAX_LIMIT, MAX_OFFSET

ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _json_schema(operation: dict, code: str) -> dict:
    return operation["responses"][code]["content"]["application/json"]["schema"]


def test_a_single_object_is_wrapped(schema):
    wrapped = _json_schema(schema["paths"]["/gadgets/{id}"]["get"], "200")

    assert wrapped == {
        "type": "object",
        "required": ["status", "message", "data"],
        "properties": {
            "status": {"type": "integer"},
            "message": {"type": "string"},
            "data": {"$ref": "#/components/schemas/Gadget"},
        },
    }


def test_a_paginated_list_is_wrapped_with_meta(schema):
    wrapped = _json_schema(schema["paths"]["/gadgets"]["get"], "200")

    assert wrapped["required"] == ["status", "message", "data", "meta"]
    assert wrapped["properties"]["data"] == {"$ref": "#/components/schemas/PaginatedGadgetList"}
    assert schema["components"]["schemas"]["PaginatedGadgetList"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Gadget"},
    }
    assert wrapped["properties"]["meta"] == {"$ref": "#/components/schemas/ListMeta"}
    assert {param["name"] for param in schema["paths"]["/gadgets"]["get"]["parameters"]} >= {
        "limit",
        "offset",
        "page",
        "size",
    }


def test_created_is_wrapped(schema):
    wrapped = _json_schema(schema["paths"]["/gadgets"]["post"], "201")

    assert wrapped["properties"]["data"] == {"$ref": "#/components/schemas/Gadget"}


def test_operations_list_the_error_envelope(schema):
    post = schema["paths"]["/gadgets"]["post"]
    get = schema["paths"]["/gadgets/{id}"]["get"]

    codes = ("400", "401", "403", "404", "409", "413", "415", "5XX")
    assert {code: _json_schema(post, code) for code in codes} == dict.fromkeys(codes, ERROR_REF)
    assert set(get["responses"]) == {"200", "400", "401", "403", "404", "5XX"}


def test_a_body_over_the_limit_and_any_5xx_are_documented_so_a_client_parses_them(schema):
    # a generated client raises (or returns None) on a status its operation does not list
    responses = {
        (path, method): set(operation["responses"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }

    assert all("5XX" in codes for codes in responses.values())
    assert all("413" in codes for (_, method), codes in responses.items() if method in ("post", "put", "patch"))
    assert "413" not in responses[("/gadgets/{id}", "get")]


def test_errors_documented_by_description_only_get_the_error_envelope(schema):
    post = schema["paths"]["/orders"]["post"]

    assert post["responses"]["429"]["description"] == "Too many orders."
    assert _json_schema(post, "429") == ERROR_REF


def test_public_operations_do_not_list_401_or_403(schema):
    live = schema["paths"]["/health/live"]["get"]

    assert "401" not in live["responses"] and "403" not in live["responses"]


def test_error_and_meta_components(schema):
    components = schema["components"]["schemas"]

    # the envelope's parts are named components, every field required (a generated client has no Unset)
    assert components["ErrorEnvelope"]["required"] == ["status", "error"]
    assert components["ErrorEnvelope"]["properties"]["error"] == {"$ref": "#/components/schemas/Error"}
    error = components["Error"]
    assert error["required"] == ["type", "message", "details"]
    assert error["properties"]["type"] == {"$ref": "#/components/schemas/ErrorType"}
    assert error["properties"]["details"]["nullable"] is True
    assert error["properties"]["details"]["items"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert components["ErrorType"]["enum"] == list(ERROR_TYPES)
    assert components["ErrorDetail"]["required"] == ["field", "message"]
    assert {"item_id", "requested", "available"} <= set(components["ErrorDetail"]["properties"])
    assert components["ListMeta"] == {
        "type": "object",
        "required": ["total", "limit", "offset"],
        "properties": {"total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}},
    }


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _subclasses(child))]


def test_every_error_type_the_code_answers_is_in_the_documented_enum():
    answered = {cls.default_code for cls in _subclasses(exceptions.ServiceError)}
    answered |= {error_type for _, error_type in exceptions._DRF_TYPES} | set(exceptions._DEFAULT_TYPES.values())

    assert answered | {"internal"} == set(ERROR_TYPES)


def test_public_operations_say_no_token_as_an_empty_security_list(schema):
    # drf-spectacular writes [{}]; a generator reads any non-empty list as "needs a token"
    assert schema["paths"]["/health/live"]["get"]["security"] == []
    assert schema["paths"]["/gadgets"]["get"]["security"] == [{"jwtAuth": []}]


def test_a_uuid_lookup_is_documented_as_a_uuid(schema):
    # UUIDLookupMixin lets any segment through to answer 400 for a non-UUID; the id is still a UUID
    [parameter] = schema["paths"]["/gadgets/{id}"]["get"]["parameters"]

    assert parameter == {"in": "path", "name": "id", "schema": {"type": "string", "format": "uuid"}, "required": True}


def test_request_bodies_are_documented_as_json_only(schema):
    bodies = {
        (path, method): list(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }

    assert bodies[("/gadgets", "post")] == ["application/json"]
    assert set(map(tuple, bodies.values())) == {("application/json",)}


def test_action_routes_lose_the_method_word_in_their_operation_id(schema):
    ids = {path: schema["paths"][path]["get"]["operationId"] for path in ("/health/live", "/gadgets", "/gadgets/{id}")}

    assert ids == {"/health/live": "health_live", "/gadgets": "gadgets_list", "/gadgets/{id}": "gadgets_retrieve"}


def test_a_shorter_operation_id_that_would_collide_is_not_taken():
    # given an action route with two methods: both would become "items_stock"
    document = {
        "paths": {
            "/items/{id}/stock": {
                "get": {"operationId": "items_stock_retrieve"},
                "post": {"operationId": "items_stock_create"},
            },
            "/orders/{id}/mark-paid": {"post": {"operationId": "orders_mark_paid_create"}},
        }
    }

    # when
    readable_operation_ids(document)

    # then the first one is shortened, the second keeps its word; the hyphenated action reads as one
    stock = document["paths"]["/items/{id}/stock"]
    assert (stock["get"]["operationId"], stock["post"]["operationId"]) == ("items_stock", "items_stock_create")
    assert document["paths"]["/orders/{id}/mark-paid"]["post"]["operationId"] == "orders_mark_paid"


def test_pagination_parameters_document_the_bounds_they_enforce(schema):
    parameters = {param["name"]: param["schema"] for param in schema["paths"]["/gadgets"]["get"]["parameters"]}

    assert parameters == {
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        "page": {"type": "integer", "minimum": 1, "maximum": MAX_OFFSET // MAX_LIMIT},
        "size": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    }


def test_every_post_documents_the_idempotency_key_header(schema):
    [header] = [param for param in schema["paths"]["/gadgets"]["post"]["parameters"] if param["in"] == "header"]

    assert header["name"] == "Idempotency-Key"
    assert header["schema"] == {"type": "string", "maxLength": 255}
    assert "parameters" not in schema["paths"]["/gadgets"]["get"] or all(
        param["in"] != "header" for param in schema["paths"]["/gadgets"]["get"]["parameters"]
    )


def test_a_filters_enum_is_the_component_of_the_same_values():
    # given: drf-spectacular names a serializer's enum but writes a filter's inline (sorted, nullable)
    status = {"in": "query", "name": "status", "schema": {"type": "string", "enum": ["Draft", "Paid"]}}
    stock = {"in": "query", "name": "stock", "schema": {"type": "string", "nullable": True, "enum": ["low", "out"]}}
    other = {"in": "query", "name": "kind", "schema": {"type": "string", "enum": ["a", "b"]}}
    document = {
        "paths": {"/orders": {"get": {"operationId": "orders_list", "parameters": [status, stock, other]}}},
        "components": {
            "schemas": {
                "StatusEnum": {"type": "string", "enum": ["Paid", "Draft"]},
                "StockEnum": {"type": "string", "enum": ["out", "low"]},
                "NullEnum": {"enum": [None]},
                "KindEnum": {"type": "string", "enum": ["b", "a"]},
                "SortEnum": {"type": "string", "enum": ["a", "b"]},
            }
        },
    }

    # when
    named_parameter_enums(document)

    # then: one type for one set of values in a generated client; an ambiguous match stays inline
    parameters = document["paths"]["/orders"]["get"]["parameters"]
    assert [param["schema"] for param in parameters] == [
        {"$ref": "#/components/schemas/StatusEnum"},
        {"$ref": "#/components/schemas/StockEnum"},
        {"type": "string", "enum": ["a", "b"]},
    ]
