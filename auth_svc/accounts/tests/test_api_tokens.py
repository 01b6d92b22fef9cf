"""POST /refresh (rotation), POST /logout (revocation) and GET /me."""

import uuid

import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from erp_testkit import auth_client
from erp_testkit.plugin import session_private_key

from ..tokens import token_pair_for_user
from .conftest import client_for
from .factories import UserFactory
from .helpers import FORBIDDEN, UNAUTHENTICATED, error, field_errors

pytestmark = pytest.mark.django_db

REVOKED = error(401, "unauthorized", "Refresh token is invalid, expired or revoked.")


def client_for_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def refresh(client, token):
    return client.post("/refresh", {"refresh_token": token}, format="json")


# ---------------------------------------------------------------- refresh


def test_refresh_rotates_the_pair(api_client, user):
    # given
    pair = token_pair_for_user(user=user)

    # when
    response = refresh(api_client, pair.refresh_token)

    # then
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert data["token_type"] == "Bearer" and data["expires_in"] == 900
    assert data["refresh_token"] != pair.refresh_token
    assert client_for_token(data["access_token"]).get("/me").status_code == 200
    assert refresh(api_client, data["refresh_token"]).status_code == 200


def test_refresh_token_used_twice_is_rejected(api_client, user):
    # given
    pair = token_pair_for_user(user=user)
    assert refresh(api_client, pair.refresh_token).status_code == 200
    outstanding = OutstandingToken.objects.count()

    # when
    response = refresh(api_client, pair.refresh_token)

    # then
    assert response.status_code == 401
    assert response.json() == REVOKED
    assert OutstandingToken.objects.count() == outstanding


def test_refresh_carries_the_current_role(api_client, user):
    # given
    pair = token_pair_for_user(user=user)
    user.role = "finance_manager"
    user.save()

    # when
    data = refresh(api_client, pair.refresh_token).json()["data"]

    # then
    assert client_for_token(data["access_token"]).get("/me").json()["data"]["role"] == "finance_manager"


def test_refresh_of_deactivated_user_is_rejected(api_client, user):
    # given
    pair = token_pair_for_user(user=user)
    user.is_active = False
    user.save()

    # when
    response = refresh(api_client, pair.refresh_token)

    # then
    assert response.status_code == 401
    assert response.json() == REVOKED
    assert BlacklistedToken.objects.count() == 0


def unrecorded_refresh_token(user) -> str:
    """Return a well-signed refresh token auth_svc never issued (no outstanding record)."""
    claims = jwt.decode(token_pair_for_user(user=user).refresh_token, options={"verify_signature": False})
    claims["jti"] = uuid.uuid4().hex
    return jwt.encode(claims, session_private_key(), algorithm="RS256")


@pytest.mark.parametrize("kind", ["access", "garbage", "foreign"])
def test_refresh_rejects_anything_but_a_refresh_token(api_client, user, kind):
    # given
    token = {
        "access": token_pair_for_user(user=user).access_token,
        "garbage": "not-a-jwt",
        "foreign": unrecorded_refresh_token(user),
    }[kind]
    outstanding = OutstandingToken.objects.count()

    # when
    response = refresh(api_client, token)

    # then
    assert response.status_code == 401
    assert response.json() == REVOKED
    assert OutstandingToken.objects.count() == outstanding
    assert BlacklistedToken.objects.count() == 0


def _issued_refresh_token_with(user, **claims) -> str:
    """Return a refresh token auth_svc issued (recorded as outstanding), its claims changed and re-signed."""
    payload = jwt.decode(token_pair_for_user(user=user).refresh_token, options={"verify_signature": False})
    return jwt.encode({**payload, **claims}, session_private_key(), algorithm="RS256")


WRONG_TYPES = [
    {"exp": "9999999999"},
    {"exp": 10**20},
    {"exp": 1.5e10},
    {"iat": "0"},
    {"user_id": 7},
    {"user_id": "not-a-uuid"},
    {"type": []},
]


@pytest.mark.parametrize("claims", WRONG_TYPES, ids=lambda claims: "-".join(f"{k}={v!r}" for k, v in claims.items()))
def test_refresh_token_with_claims_of_the_wrong_type_is_401(api_client, user, claims):
    # given
    token = _issued_refresh_token_with(user, **claims)

    # when
    response = refresh(api_client, token)

    # then
    assert response.status_code == 401
    assert response.json() == REVOKED
    assert BlacklistedToken.objects.count() == 0


@pytest.mark.parametrize("claims", WRONG_TYPES, ids=lambda claims: "-".join(f"{k}={v!r}" for k, v in claims.items()))
def test_logout_with_claims_of_the_wrong_type_is_refused(user, claims):
    # given
    token = _issued_refresh_token_with(user, **claims)

    # when
    response = client_for(user).post("/logout", {"refresh_token": token}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("refresh_token", "Invalid refresh token."))
    assert BlacklistedToken.objects.count() == 0


def test_refresh_requires_the_field(api_client):
    # when
    response = api_client.post("/refresh", {}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("refresh_token", "This field is required."))


# ---------------------------------------------------------------- logout


def test_logout_revokes_the_refresh_token(api_client, user):
    # given
    pair = token_pair_for_user(user=user)
    client = client_for_token(pair.access_token)

    # when
    response = client.post("/logout", {"refresh_token": pair.refresh_token}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "Logged out.", "data": {"detail": "Logged out."}}
    assert refresh(api_client, pair.refresh_token).json() == REVOKED


def test_logout_twice_is_harmless(user):
    # given
    pair = token_pair_for_user(user=user)
    client = client_for_token(pair.access_token)
    client.post("/logout", {"refresh_token": pair.refresh_token}, format="json")

    # when
    response = client.post("/logout", {"refresh_token": pair.refresh_token}, format="json")

    # then
    assert response.status_code == 200
    assert BlacklistedToken.objects.count() == 1


def test_logout_cannot_revoke_someone_elses_token(api_client, user, finance_user):
    # given
    victim = token_pair_for_user(user=finance_user)

    # when
    response = client_for(user).post("/logout", {"refresh_token": victim.refresh_token}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("refresh_token", "Invalid refresh token."))
    assert BlacklistedToken.objects.count() == 0
    assert refresh(api_client, victim.refresh_token).status_code == 200


@pytest.mark.parametrize("value", ["garbage", "access"])
def test_logout_rejects_a_non_refresh_token(user, value):
    # given
    pair = token_pair_for_user(user=user)
    token = pair.access_token if value == "access" else "garbage"

    # when
    response = client_for_token(pair.access_token).post("/logout", {"refresh_token": token}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("refresh_token", "Invalid refresh token."))
    assert BlacklistedToken.objects.count() == 0


def test_logout_requires_a_user_token(api_client, user, service_client):
    # given
    pair = token_pair_for_user(user=user)

    # when
    anonymous = api_client.post("/logout", {"refresh_token": pair.refresh_token}, format="json")
    service = service_client.post("/logout", {"refresh_token": pair.refresh_token}, format="json")

    # then
    assert anonymous.status_code == 401
    assert anonymous.json() == UNAUTHENTICATED
    assert service.status_code == 403
    assert service.json() == FORBIDDEN
    assert BlacklistedToken.objects.count() == 0


# ---------------------------------------------------------------- me


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager", "admin"])
def test_me_returns_the_caller(role):
    # given
    user = UserFactory(role=role)

    # when
    response = client_for(user).get("/me")

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {
        "id": str(user.id),
        "email": user.email,
        "role": role,
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": user.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_me_refuses_service_tokens(service_client):
    # when
    response = service_client.get("/me")

    # then
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_me_refuses_missing_refresh_and_expired_tokens(api_client, user):
    # given
    pair = token_pair_for_user(user=user)

    # when
    anonymous = api_client.get("/me")
    with_refresh = client_for_token(pair.refresh_token).get("/me")
    expired = auth_client(user_id=str(user.id), iat=1, exp=2).get("/me")

    # then
    assert anonymous.json() == UNAUTHENTICATED
    assert with_refresh.status_code == 401
    assert with_refresh.json()["error"]["type"] == "unauthorized"
    assert expired.status_code == 401


def test_me_of_deactivated_user_is_401(user):
    # given
    client = client_for(user)
    user.is_active = False
    user.save()

    # when
    response = client.get("/me")

    # then
    assert response.status_code == 401
    assert response.json() == error(401, "unauthorized", "The user of this token no longer exists or is inactive.")
