"""``POST /sso/session/token``: the back office's home reads the services with the signed-in person's own rights.

Only the gateway may exchange a single sign-on session for a short-lived access token, proving
itself with its service token, and only directly at auth_svc: never under the gateway's ``/admin/auth/``.
"""

from __future__ import annotations

import jwt
import pytest
from rest_framework.test import APIClient

from accounts import services
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


def test_the_gateway_gets_a_one_minute_token_of_the_person_signed_in_for_the_home_alone(signed_in):
    client, user = signed_in

    # when
    response = client.post(URL, **gateway_proof())

    # then: a token of theirs, living a minute, with no refresh token...
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    data = response.json()["data"]
    assert set(data) == {"email", "role", "access_token", "expires_in"}
    assert (data["email"], data["role"], data["expires_in"]) == ("fred@example.com", "finance_manager", 60)
    claims = jwt.decode(data["access_token"], options={"verify_signature": False})
    assert (claims["user_id"], claims["role"], claims["exp"] - claims["iat"]) == (str(user.pk), "finance_manager", 60)
    # ... scoped to the home's summaries: no other endpoint takes it (common.authentication), auth_svc's neither
    assert claims["scope"] == "home"
    for response in (
        APIClient().get("/me", HTTP_AUTHORIZATION=f"Bearer {data['access_token']}"),
        APIClient().get("/users", HTTP_AUTHORIZATION=f"Bearer {data['access_token']}"),
    ):
        assert response.status_code == 403 and response.json()["error"]["type"] == "forbidden"


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


def withdraw_by_role(user):
    services.user_change_role(user=user, role="inventory_manager")


def withdraw_by_email(user):
    services.user_admin_change(user=user, changes={"email": "frederick@example.com"})


def withdraw_by_new_password(user):
    services.user_password_set(user=user, password="a-new-and-long-passphrase")


def withdraw_by_deactivation_then_reactivation(user):
    services.user_reactivate(user=services.user_deactivate(user=user))


@pytest.mark.parametrize(
    "withdraw",
    [withdraw_by_role, withdraw_by_email, withdraw_by_new_password, withdraw_by_deactivation_then_reactivation],
)
def test_a_session_opened_before_the_person_s_access_was_withdrawn_gets_no_token(signed_in, withdraw):
    # given: a token handed for the session; then the person's access withdrawn (contract §3)
    client, user = signed_in
    assert client.post(URL, **gateway_proof()).status_code == 200
    withdraw(user)

    # when / then: the session ended with it (even once reactivated): no token, and nobody signed in
    assert client.post(URL, **gateway_proof()).status_code == 401
    assert client.get("/sso/session").status_code == 401


def test_after_signing_out_the_session_gets_no_token(signed_in):
    client, _ = signed_in
    # given
    assert client.post("/sso/signout/").status_code == 302
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
