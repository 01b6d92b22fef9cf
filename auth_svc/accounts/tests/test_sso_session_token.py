"""``POST /sso/session/token``: the back office's home reads the services with the signed-in person's own rights.

Only the gateway may exchange a single sign-on session for a short-lived access token, proving
itself with its service token, and only directly at auth_svc: never under the gateway's ``/admin/auth/``.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.forwarding import PROXY_TOKEN_HEADER
from erp_testkit import issue_token

from .factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/sso/session/token"
PROOF_HEADER = f"HTTP_{PROXY_TOKEN_HEADER.upper().replace('-', '_')}"
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


def gateway_proof(user_id: str = "gateway") -> dict:
    return {PROOF_HEADER: issue_token(role=None, token_type="service", user_id=user_id)}


@pytest.fixture
def signed_in(client):
    user = UserFactory(email="fred@example.com", role="finance_manager")
    client.force_login(user, backend=PASSWORD_BACKEND)
    return client, user


def test_the_gateway_gets_a_one_minute_token_of_the_person_signed_in(signed_in):
    client, _ = signed_in

    # when
    response = client.post(URL, **gateway_proof())

    # then: a token of theirs, which the API takes
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    data = response.json()["data"]
    assert (data["email"], data["role"], data["expires_in"]) == ("fred@example.com", "finance_manager", 60)
    me = APIClient().get("/me", HTTP_AUTHORIZATION=f"Bearer {data['access_token']}")
    assert me.status_code == 200 and me.json()["data"]["email"] == "fred@example.com"


@pytest.mark.parametrize("proof", [{}, gateway_proof("contact"), {PROOF_HEADER: "not-a-token"}])
def test_without_the_gateway_s_own_proof_it_is_403(signed_in, proof):
    client, _ = signed_in
    # when
    response = client.post(URL, **proof)
    # then
    assert response.status_code == 403 and response.json()["error"]["type"] == "forbidden"


def test_without_a_session_it_is_401(client):
    # when
    response = client.post(URL, **gateway_proof())
    # then
    assert response.status_code == 401 and response.json()["error"]["type"] == "unauthorized"


def test_a_deactivated_person_s_session_gets_no_token(signed_in):
    client, user = signed_in
    # given
    user.is_active = False
    user.save(update_fields=["is_active"])
    # when / then
    assert client.post(URL, **gateway_proof()).status_code == 401


def test_only_post_is_answered(signed_in):
    client, _ = signed_in
    response = client.get(URL, **gateway_proof())
    assert response.status_code == 405 and response.json()["error"]["type"] == "method_not_allowed"


def test_it_is_not_served_under_the_gateway_s_admin_mount(signed_in):
    client, _ = signed_in
    # when: as the gateway forwards /admin/auth/sso/session/token (its prefix, its proof)
    response = client.post(URL, HTTP_X_FORWARDED_PREFIX="/admin/auth", **gateway_proof())
    # then: the admin's URLconf has no such page (the admin sends whatever it does not know to its login)
    assert response.status_code == 302 and response["Location"].startswith("/admin/auth/login/")
    assert b"access_token" not in response.content
