"""UUIDLookupMixin and the JSON 404/500 handlers of common.views."""

import json
import uuid

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from common.views import bad_request, not_found, permission_denied, server_error
from erp_testkit import auth_client
from tests.project.models import Gadget


@pytest.mark.parametrize("value", ["42", "not-a-uuid", "9d1c9a5e-2f7e-4c55-9a43-5a3f1c0e0b0"])
def test_a_path_id_that_is_not_a_uuid_is_bad_request(value):
    response = auth_client().get(f"/gadgets/{value}")

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": {
            "type": "bad_request",
            "message": f"'{value}' is not a valid UUID.",
            "details": [{"field": "id", "message": "Must be a UUID."}],
        },
    }


@pytest.mark.django_db
def test_an_unknown_uuid_is_not_found():
    response = auth_client().get(f"/gadgets/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


@pytest.mark.django_db
def test_a_known_uuid_is_found_with_the_view_message():
    # given
    gadget = Gadget.objects.create(name="cog")

    # when
    response = auth_client().get(f"/gadgets/{gadget.id}")

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["message"], body["data"]["id"], body["data"]["name"]) == (
        200,
        "Gadget found.",
        str(gadget.id),
        "cog",
    )


def test_handlers_answer_json():
    request = RequestFactory().get("/x")

    assert json.loads(not_found(request).content) == {
        "status": 404,
        "error": {"type": "not_found", "message": "Not found.", "details": None},
    }
    response = server_error(request)
    assert response.status_code == 500
    assert json.loads(response.content) == {
        "status": 500,
        "error": {"type": "internal", "message": "Internal server error.", "details": None},
    }


def test_handlers_for_400_and_403_answer_json():
    request = RequestFactory().get("/x")

    assert json.loads(bad_request(request).content)["error"] == {
        "type": "bad_request",
        "message": "Bad request.",
        "details": None,
    }
    assert permission_denied(request).status_code == 403
    assert json.loads(permission_denied(request).content)["error"]["type"] == "forbidden"


def test_a_disallowed_host_is_400_in_the_envelope():
    response = APIClient().get("/health/live", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": {"type": "bad_request", "message": "Bad request.", "details": None},
    }
