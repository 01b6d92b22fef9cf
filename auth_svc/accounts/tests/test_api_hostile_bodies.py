"""Every anonymous endpoint under every encoding an attacker might try: none creates an admin.

The attack of issue 7: ``-F 'role=@role.txt;filename=admin'`` registered an admin, because
the view decided on the raw ``request.data["role"]`` (an uploaded file) and the ChoiceField
then compared the file's name. Multipart is now a 415 everywhere, and the decision is taken
on the validated role only.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from common.parsers import MAX_DEPTH
from common.roles import ADMIN

from ..models import User
from .factories import PASSWORD

pytestmark = pytest.mark.django_db

# A body each endpoint would otherwise consider, plus the answer it gives to it with
# ``role: admin`` added (the role is not a field of any endpoint but register).
ENDPOINTS = {
    "/register": ({"email": "evil@example.com", "password": PASSWORD}, 401),
    "/login": ({"email": "ivy@example.com", "password": "wrong-password"}, 401),
    "/refresh": ({"refresh_token": "not.a.token"}, 401),
    "/forgot-password": ({"email": "ivy@example.com"}, 200),
    "/reset-password": ({"reset_token": "unknown", "new_password": PASSWORD}, 400),
    "/service-token": ({"service_name": "contact", "service_secret": "wrong"}, 401),
}


def _multipart(fields: dict) -> tuple[bytes, str]:
    return encode_multipart(BOUNDARY, fields), MULTIPART_CONTENT


def _json(fields: dict) -> tuple[bytes, str]:
    return json.dumps(fields).encode(), "application/json"


def _form(fields: dict) -> tuple[bytes, str]:
    return urlencode(fields, doseq=True).encode(), "application/x-www-form-urlencoded"


def _json_duplicate_role(fields: dict) -> tuple[bytes, str]:
    body = json.dumps({**fields, "role": "inventory_manager"})
    return body[:-1].encode() + b', "role": "admin"}', "application/json"


# Register validates the role (400); the other endpoints have no role field and answer as usual.
ON_REGISTER_400 = {"/register": 400}

# name -> (make the body from the endpoint's fields, expected status: an int for every endpoint,
# None for each endpoint's own answer, or a dict of the endpoints that answer otherwise)
ATTACKS = {
    "json-role-list": (lambda f: _json({**f, "role": [ADMIN]}), ON_REGISTER_400),
    "json-role-object": (lambda f: _json({**f, "role": {"role": ADMIN}}), ON_REGISTER_400),
    "json-role-padded": (lambda f: _json({**f, "role": f" {ADMIN} "}), ON_REGISTER_400),
    "json-role-cased": (lambda f: _json({**f, "role": ADMIN.upper()}), ON_REGISTER_400),
    "form-role-padded": (lambda f: _form({**f, "role": f"{ADMIN} "}), ON_REGISTER_400),
    "json": (lambda f: _json({**f, "role": ADMIN}), None),
    "form": (lambda f: _form({**f, "role": ADMIN}), None),
    "form-duplicate-role": (lambda f: _form({**f, "role": ["inventory_manager", ADMIN]}), None),
    "json-duplicate-role": (_json_duplicate_role, 400),
    "multipart-text": (lambda f: _multipart({**f, "role": ADMIN}), 415),
    "multipart-file-named-admin": (lambda f: _multipart({**f, "role": SimpleUploadedFile(ADMIN, b"x")}), 415),
    "multipart-file-holding-admin": (lambda f: _multipart({**f, "role": SimpleUploadedFile("r.txt", b"admin")}), 415),
    "multipart-every-field-a-file": (
        lambda f: _multipart({k: SimpleUploadedFile(str(v), str(v).encode()) for k, v in {**f, "role": ADMIN}.items()}),
        415,
    ),
    "json-nested-1000-deep": (lambda f: (b"[" * 1000 + b"]" * 1000, "application/json"), 400),
}


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_encoding_makes_an_admin(api_client, open_registration, user, path, attack):
    # given
    fields, usual_status = ENDPOINTS[path]
    make_body, expected_status = ATTACKS[attack]
    body, content_type = make_body(fields)
    users_before = set(User.objects.values_list("email", "role"))

    # when
    response = api_client.generic("POST", path, body, content_type=content_type)

    # then
    if isinstance(expected_status, dict):
        expected_status = expected_status.get(path)
    assert response.status_code == (expected_status or usual_status)
    assert "application/json" in response["Content-Type"]
    assert set(User.objects.values_list("email", "role")) == users_before
    assert not User.objects.filter(role=ADMIN).exists()


def test_multipart_is_415_in_the_envelope(api_client, open_registration):
    # given: issue 7's exploit as curl sent it
    body, content_type = _multipart(
        {"email": "evil@example.com", "password": "Zq8!vLm#42pT", "role": SimpleUploadedFile(ADMIN, b"x")}
    )

    # when
    response = api_client.generic("POST", "/register", body, content_type=content_type)

    # then
    assert response.status_code == 415
    assert response.json() == {
        "status": 415,
        "error": {
            "type": "unsupported_media_type",
            "message": f'Unsupported media type "{content_type}" in request.',
            "details": None,
        },
    }
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    "role",
    [["admin"], {"role": "admin"}, " admin", "admin ", "Admin", "ADMIN", ["inventory_manager"], 1, True, None],
    ids=[
        "list",
        "object",
        "padded-left",
        "padded-right",
        "capitalised",
        "upper",
        "list-of-manager",
        "int",
        "bool",
        "null",
    ],
)
@pytest.mark.parametrize("token", ["anonymous", "admin"])
def test_register_takes_the_role_as_an_exact_string_only(api_client, open_registration, admin_client, role, token):
    # given: even an admin's request is refused; nobody's odd role is coerced into a real one
    client = admin_client if token == "admin" else api_client

    # when
    response = client.post("/register", {"email": "odd@example.com", "password": PASSWORD, "role": role}, format="json")

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["type"] == "validation"
    assert [detail["field"] for detail in body["error"]["details"]] == ["role"]
    assert not User.objects.filter(email="odd@example.com").exists()


def test_register_by_form_still_works_for_a_self_service_role(api_client, open_registration):
    # when: the browsable API posts forms
    body, content_type = _form({"email": "form@example.com", "password": PASSWORD, "role": "finance_manager"})
    response = api_client.generic("POST", "/register", body, content_type=content_type)

    # then
    assert response.status_code == 201
    assert User.objects.get(email="form@example.com").role == "finance_manager"


def test_users_create_and_change_role_take_the_role_strictly(admin_client, user):
    # when
    created = admin_client.post(
        "/users", {"email": "x@example.com", "password": PASSWORD, "role": ["admin"]}, format="json"
    )
    changed = admin_client.patch(f"/users/{user.id}", {"role": " admin"}, format="json")

    # then
    assert created.status_code == changed.status_code == 400
    user.refresh_from_db()
    assert user.role == "inventory_manager"
    assert not User.objects.filter(email="x@example.com").exists()


def test_nesting_limit_is_common_s(api_client):
    # then: the parser the endpoints use is common's (one depth limit everywhere)
    response = api_client.post("/login", "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), content_type="application/json")
    assert response.json()["error"]["message"] == f"JSON parse error - nested deeper than {MAX_DEPTH} levels."
