"""The success envelope (renderer) and the error envelope (exception handler), contract §2."""

import logging
import uuid

import pytest
from django.db import DatabaseError, OperationalError, connection, transaction
from rest_framework.test import APIClient

from common.exceptions import (
    database_away,
    error_body,
    error_response,
    flatten_validation_errors,
    service_error_response,
)
from erp_testkit import auth_client
from tests.project.views import ERRORS

CUSTOMER = "9d1c9a5e-2f7e-4c55-9a43-5a3f1c0e0b01"
ITEM_A = "0f6e2d8a-1111-4c55-9a43-5a3f1c0e0b01"
ITEM_B = "0f6e2d8a-2222-4c55-9a43-5a3f1c0e0b01"


# Success envelope


def test_success_is_wrapped_with_the_view_message():
    response = auth_client("inventory_manager").get("/envelope")

    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "The answer.", "data": {"answer": 42}}


def test_created_is_wrapped_with_the_status_phrase():
    response = auth_client().post("/widgets", {"name": "cog", "quantity": 2}, format="json")

    assert response.status_code == 201
    assert response.json() == {"status": 201, "message": "Created", "data": {"name": "cog", "quantity": 2}}


def test_no_content_has_an_empty_body():
    response = auth_client("finance_manager").delete("/envelope")

    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.django_db
def test_list_carries_meta():
    # given
    from tests.project.models import Gadget

    Gadget.objects.create(name="cog")

    # when
    response = auth_client().get("/gadgets")

    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["message"], body["meta"]) == (200, "OK", {"total": 1, "limit": 10, "offset": 0})
    assert [gadget["name"] for gadget in body["data"]] == ["cog"]


# Error envelope: validation


def test_flat_validation_errors_name_the_field():
    response = auth_client().post("/widgets", {"name": "far too long a name", "quantity": 0}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": {
            "type": "validation",
            "message": "Validation failed.",
            "details": [
                {"field": "name", "message": "Ensure this field has no more than 10 characters."},
                {"field": "quantity", "message": "Ensure this value is greater than or equal to 1."},
            ],
        },
    }


def test_nested_validation_errors_are_dotted():
    # given: the second line is the bad one
    body = {"customer_id": CUSTOMER, "items": [{"item_id": ITEM_A, "quantity": 1}, {"item_id": "x", "quantity": 0}]}

    # when
    response = auth_client().post("/orders", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "items.1.item_id", "message": "Must be a valid UUID."},
        {"field": "items.1.quantity", "message": "Ensure this value is greater than or equal to 1."},
    ]


def test_missing_nested_field_is_dotted():
    response = auth_client().post("/orders", {"customer_id": CUSTOMER, "items": [{"item_id": ITEM_A}]}, format="json")

    assert response.json()["error"]["details"] == [{"field": "items.0.quantity", "message": "This field is required."}]


def test_non_field_errors_are_named_so():
    body = {"customer_id": CUSTOMER, "items": [{"item_id": ITEM_B, "quantity": 1}, {"item_id": ITEM_B, "quantity": 2}]}

    response = auth_client().post("/orders", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "non_field_errors", "message": "An item may appear on one line only."}
    ]


def test_django_validation_error_is_a_validation_envelope():
    response = APIClient().get("/errors/django_validation")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "validation",
        "message": "Validation failed.",
        "details": [{"field": "email", "message": "Enter a valid email address."}],
    }


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("plain", [{"field": "non_field_errors", "message": "plain"}]),
        (["a", "b"], [{"field": "non_field_errors", "message": "a"}, {"field": "non_field_errors", "message": "b"}]),
        ({"non_field_errors": ["x"]}, [{"field": "non_field_errors", "message": "x"}]),
        ({"items": [{}, {"quantity": ["bad"]}]}, [{"field": "items.1.quantity", "message": "bad"}]),
        ({"items": {"non_field_errors": ["empty"]}}, [{"field": "items", "message": "empty"}]),
        ({"a": {"b": {"c": ["deep"]}}}, [{"field": "a.b.c", "message": "deep"}]),
        ({"tags": {"2": ["bad tag"]}}, [{"field": "tags.2", "message": "bad tag"}]),
    ],
)
def test_flatten_validation_errors(detail, expected):
    assert flatten_validation_errors(detail) == expected


# Error envelope: the other types


def test_malformed_json_is_bad_request():
    response = auth_client().post("/widgets", data="{not json", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["error"]["type"], body["error"]["details"]) == (400, "bad_request", None)
    assert body["error"]["message"].startswith("JSON parse error")


def test_text_plain_body_is_415():
    response = auth_client().post("/widgets", data="name=cog", content_type="text/plain")

    assert response.status_code == 415
    assert response.json() == {
        "status": 415,
        "error": {
            "type": "unsupported_media_type",
            "message": 'Unsupported media type "text/plain" in request.',
            "details": None,
        },
    }


def test_unknown_path_is_404_from_handler404():
    response = auth_client().get("/no/such/path")

    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": {"type": "not_found", "message": "Not found.", "details": None}}


def test_http404_in_a_view_is_not_found():
    response = APIClient().get("/errors/http404")

    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": {"type": "not_found", "message": "Not found.", "details": None}}


def test_throttled_is_429_with_retry_after():
    # given
    client = APIClient()
    assert client.get("/throttled").status_code == 200

    # when
    response = client.get("/throttled")

    # then
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    body = response.json()
    assert (body["status"], body["error"]["type"], body["error"]["details"]) == (429, "rate_limited", None)
    assert body["error"]["message"].startswith("Request was throttled.")


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        (
            "conflict",
            409,
            {
                "type": "conflict",
                "message": "order is Confirmed",
                "details": [{"field": "status", "message": "expected Draft"}],
            },
        ),
        (
            "unavailable",
            503,
            {
                "type": "upstream_unavailable",
                "message": "A service this request needs is unavailable.",
                "details": None,
            },
        ),
        (
            "bad_gateway",
            502,
            {
                "type": "upstream_unavailable",
                "message": "A service this request needs answered with an error.",
                "details": None,
            },
        ),
        (
            "timeout",
            504,
            {
                "type": "upstream_timeout",
                "message": "A service this request needs did not answer in time.",
                "details": None,
            },
        ),
        (
            "transition",
            409,
            {
                "type": "conflict",
                "message": "Order is Confirmed, expected Draft.",
                "details": [{"field": "status", "message": "order is Confirmed, expected Draft"}],
            },
        ),
        (
            "transition_of_several",
            409,
            {
                "type": "conflict",
                "message": "Purchase order is Paid, expected Draft or Confirmed.",
                "details": [{"field": "status", "message": "purchase order is Paid, expected Draft or Confirmed"}],
            },
        ),
        (
            "insufficient_stock",
            409,
            {
                "type": "conflict",
                "message": "Insufficient stock.",
                "details": [
                    {
                        "field": "items",
                        "message": "item 7d7f3a52-1111-4a9e-9d1e-2f3b4c5d6e7f: requested 5, available 2",
                        "item_id": "7d7f3a52-1111-4a9e-9d1e-2f3b4c5d6e7f",
                        "requested": 5,
                        "available": 2,
                    },
                    {
                        "field": "items.1",
                        "message": "item 7d7f3a52-2222-4a9e-9d1e-2f3b4c5d6e7f: requested 1, available 0",
                        "item_id": "7d7f3a52-2222-4a9e-9d1e-2f3b4c5d6e7f",
                        "requested": 1,
                        "available": 0,
                    },
                ],
            },
        ),
        (
            "validation_failed",
            400,
            {
                "type": "validation",
                "message": "Validation failed.",
                "details": [
                    {"field": "password", "message": "Too short."},
                    {"field": "password", "message": "Too common."},
                ],
            },
        ),
    ],
)
def test_service_errors_keep_their_status_type_and_details(kind, status, error):
    response = APIClient().get(f"/errors/{kind}")

    assert response.status_code == status
    assert response.json() == {"status": status, "error": error}


@pytest.mark.parametrize(
    "kind", ["conflict", "unavailable", "bad_gateway", "timeout", "insufficient_stock", "validation_failed"]
)
def test_an_error_answered_outside_drf_is_the_same_bytes_as_a_views(kind):
    # given what a DRF view answers when it raises the exception
    view = APIClient().get(f"/errors/{kind}")

    # when the same exception is answered outside DRF (middleware, Django's handlers, the gateway)
    plain = service_error_response(ERRORS[kind])

    # then
    assert (plain.status_code, plain["Content-Type"]) == (view.status_code, view["Content-Type"])
    assert plain.content == view.content


def test_error_response_is_compact_utf8_json():
    response = error_response(404, "Kein Eintrag für «x».")

    expected = '{"status":404,"error":{"type":"not_found","message":"Kein Eintrag für «x».","details":null}}'
    assert response.content == expected.encode()
    assert response["Content-Type"] == "application/json"


def test_unexpected_exception_is_500_without_details_and_logged_with_the_request_id(caplog):
    # given
    client = APIClient(raise_request_exception=False)
    request_id = f"req-{uuid.uuid4()}"

    # when
    with caplog.at_level(logging.ERROR, logger="common.exceptions"):
        response = client.get("/errors/crash", HTTP_X_REQUEST_ID=request_id)

    # then: the client learns nothing of the internals
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "error": {"type": "internal", "message": "Internal server error.", "details": None},
    }
    assert b"secret internals" not in response.content
    assert response["X-Request-ID"] == request_id
    # and the log has the traceback and the request id
    [record] = [r for r in caplog.records if r.name == "common.exceptions"]
    assert record.request_id == request_id
    assert record.getMessage() == f"Unhandled exception in GET /errors/crash (request {request_id})"
    assert record.exc_info[0] is RuntimeError


def test_database_away_is_503_logged_in_one_line_without_traceback(caplog):
    # given
    client = APIClient(raise_request_exception=False)
    request_id = f"req-{uuid.uuid4()}"

    # when: the database connection fails inside a view (server restarting, network gone)
    with caplog.at_level(logging.WARNING, logger="common.exceptions"):
        response = client.get("/errors/database_down", HTTP_X_REQUEST_ID=request_id)

    # then: a dependency is down, not a bug: 503 in the envelope
    assert response.status_code == 503
    assert response.json() == {
        "status": 503,
        "error": {
            "type": "upstream_unavailable",
            "message": "The service cannot reach its database; try again shortly.",
            "details": None,
        },
    }
    # and one warning with the request id, no traceback, nothing of the connection string
    [record] = [r for r in caplog.records if r.name == "common.exceptions"]
    assert record.levelno == logging.WARNING
    assert (
        record.getMessage()
        == f"Database unavailable in GET /errors/database_down (request {request_id}): OperationalError"
    )
    assert record.exc_info is None


@pytest.mark.parametrize(
    ("statements", "away"),
    [
        (["SET LOCAL statement_timeout = 1", "SELECT pg_sleep(1)"], True),  # 57014, the server cancelled it
        (["SET TRANSACTION READ ONLY", "CREATE TEMP TABLE t (v int)"], True),  # 25006, an InternalError
        (["SELECT " + ", ".join(["1"] * 1700)], False),  # 54011, an OperationalError no retry fixes
        (["SELECT 1 / 0"], False),  # 22012, a DataError
    ],
)
@pytest.mark.django_db(transaction=True)
def test_database_away_tells_an_unreachable_or_busy_database_from_a_query_that_always_fails(statements, away):
    # given: PostgreSQL's own report of the failure
    with pytest.raises(DatabaseError) as raised, transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    # then
    assert database_away(raised.value) is away


def test_a_database_error_without_a_server_report_is_away_by_its_class():
    assert database_away(OperationalError("connection refused")) is True
    assert database_away(DatabaseError("no report")) is False


def test_error_body_shape():
    assert error_body(409, "conflict", "Taken.", [{"field": "email", "message": "Taken."}]) == {
        "status": 409,
        "error": {"type": "conflict", "message": "Taken.", "details": [{"field": "email", "message": "Taken."}]},
    }


@pytest.mark.parametrize(
    ("kind", "status", "retry_after"),
    [
        ("unavailable", 503, "5"),  # a dependency down: a moment for it to come back
        ("database_down", 503, "5"),
        ("bad_gateway", 502, None),  # nonsense from a dependency: the same request would get the same answer
        ("timeout", 504, None),
    ],
)
def test_a_dependency_down_says_when_to_try_again_and_nonsense_does_not(kind, status, retry_after):
    # when
    response = APIClient(raise_request_exception=False).get(f"/errors/{kind}")

    # then
    assert response.status_code == status
    assert response.get("Retry-After") == retry_after


def test_rate_limited_says_when_to_come_back():
    # when
    response = APIClient().get("/errors/rate_limited")

    # then: the wait is rounded up, never "Retry-After: 0"
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "status": 429,
        "error": {
            "type": "rate_limited",
            "message": "Too many attempts. Expected available in 1 second.",
            "details": None,
        },
    }
