"""POST /service-token: services prove their secret and get a role-less ``type: service`` token."""

import pytest
from rest_framework.test import APIClient

from common.authentication import JWTAuthentication

from .conftest import SERVICE_SECRET
from .helpers import FORBIDDEN, error, field_errors, verified_claims

pytestmark = pytest.mark.django_db

REFUSED = error(401, "unauthorized", "Unknown service or wrong secret.")


def ask(client, name, secret):
    return client.post("/service-token", {"service_name": name, "service_secret": secret}, format="json")


def test_service_token_is_issued_for_the_right_secret(api_client, service_secrets):
    # when
    response = ask(api_client, "contact", SERVICE_SECRET)

    # then
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"access_token", "token_type", "expires_in"}
    assert data["token_type"] == "Bearer" and data["expires_in"] == 900
    claims = verified_claims(data["access_token"])
    assert claims["type"] == "service"
    assert claims["user_id"] == "contact"
    assert claims["token_type"] == "access"
    assert "role" not in claims and "email" not in claims
    caller = JWTAuthentication().get_user(JWTAuthentication().get_validated_token(data["access_token"].encode()))
    assert caller.is_service


@pytest.mark.parametrize(
    ("name", "secret"),
    [("contact", "wrong-secret"), ("contact", SERVICE_SECRET[:-1]), ("billing", SERVICE_SECRET)],
)
def test_service_token_refuses_wrong_secret_or_unknown_service(api_client, service_secrets, name, secret):
    # when
    response = ask(api_client, name, secret)

    # then
    assert response.status_code == 401
    assert response.json() == REFUSED


def test_service_token_validates_the_body(api_client):
    # when
    response = api_client.post("/service-token", {}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(
        ("service_name", "This field is required."), ("service_secret", "This field is required.")
    )


@pytest.mark.parametrize(("method", "path"), [("get", "/me"), ("get", "/users"), ("post", "/users")])
def test_service_tokens_are_refused_on_user_endpoints(api_client, service_secrets, method, path):
    # given
    token = ask(api_client, "contact", SERVICE_SECRET).json()["data"]["access_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    # when
    response = getattr(client, method)(path, {}, format="json")

    # then
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
