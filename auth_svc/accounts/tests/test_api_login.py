"""POST /login: tokens and their claims, the one 401 for every bad credential, lock-out."""

import jwt
import pytest
from django.conf import settings
from django.db import connection

from common.authentication import JWTAuthentication

from ..models import User
from .factories import PASSWORD, UserFactory
from .helpers import error, verified_claims

pytestmark = pytest.mark.django_db

INVALID = error(401, "unauthorized", "Invalid email or password.")


def login(client, email, password, **extra):
    return client.post("/login", {"email": email, "password": password}, format="json", **extra)


def test_login_returns_token_pair_and_user(api_client, user):
    # when
    response = login(api_client, "IVY@example.com", PASSWORD)

    # then
    assert response.status_code == 200
    body = response.json()
    data = body["data"]
    assert body["status"] == 200 and body["message"] == "OK"
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 15 * 60
    assert data["user"] == {
        "id": str(user.id),
        "email": "ivy@example.com",
        "role": "inventory_manager",
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": user.updated_at.isoformat().replace("+00:00", "Z"),
    }
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_access_token_has_contract_claims_and_verifies_with_public_key(api_client, user):
    # when
    data = login(api_client, user.email, PASSWORD).json()["data"]

    # then
    header = jwt.get_unverified_header(data["access_token"])
    claims = verified_claims(data["access_token"])
    assert header["alg"] == "RS256"
    assert set(claims) == {
        *("user_id", "email", "role", "type", "token_type", "iss", "aud", "exp", "iat", "jti", "access_version")
    }
    assert claims["user_id"] == str(user.id)
    assert claims["access_version"] == 0
    assert claims["email"] == "ivy@example.com"
    assert claims["role"] == "inventory_manager"
    assert claims["type"] == "user"
    assert claims["token_type"] == "access"
    assert claims["exp"] - claims["iat"] == 15 * 60
    token_user = JWTAuthentication().get_user(JWTAuthentication().get_validated_token(data["access_token"].encode()))
    assert token_user.role == "inventory_manager" and not token_user.is_service
    refresh_claims = jwt.decode(data["refresh_token"], options={"verify_signature": False})
    assert refresh_claims["token_type"] == "refresh"
    assert refresh_claims["jti"] != claims["jti"]


def test_login_works_with_a_stale_authorization_header(api_client, user):
    # given
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.forged")

    # when
    response = login(api_client, user.email, PASSWORD)

    # then
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [("ivy@example.com", "Wrong-Passw0rd!"), ("nobody@example.com", PASSWORD), ("", PASSWORD)],
)
def test_login_bad_credentials_are_one_401(api_client, user, email, password):
    # when
    response = login(api_client, email, password)

    # then
    if email:
        assert response.status_code == 401
        assert response.json() == INVALID
    else:
        assert response.status_code == 400
        assert response.json()["error"]["details"] == [{"field": "email", "message": "This field may not be blank."}]
    user.refresh_from_db()
    assert user.last_login is None


def test_login_inactive_user_is_the_same_401(api_client):
    # given
    UserFactory(email="gone@example.com", is_active=False)

    # when
    response = login(api_client, "gone@example.com", PASSWORD)

    # then
    assert response.status_code == 401
    assert response.json() == INVALID


def test_login_locks_out_after_repeated_failures(api_client, user, settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES": 3, "LOGIN_FAILURE_WINDOW": 600}
    for _ in range(3):
        assert login(api_client, user.email, "Wrong-Passw0rd!").status_code == 401

    # when: even the right password is refused while locked out
    response = login(api_client, user.email, PASSWORD)

    # then
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 590 <= retry_after <= 600
    assert response.json() == error(
        429,
        "rate_limited",
        f"Too many failed logins; try again later. Expected available in {retry_after} seconds.",
    )
    user.refresh_from_db()
    assert user.last_login is None


def test_login_lockout_is_per_email_and_ip(api_client, user, settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES": 2}
    UserFactory(email="other@example.com")
    for _ in range(2):
        login(api_client, user.email, "Wrong-Passw0rd!")

    # when
    same_pair = login(api_client, user.email, PASSWORD)
    other_email = login(api_client, "other@example.com", PASSWORD)
    other_ip = login(api_client, user.email, PASSWORD, REMOTE_ADDR="10.0.0.9")

    # then
    assert same_pair.status_code == 429
    assert other_email.status_code == 200
    assert other_ip.status_code == 200


def test_login_lockout_counts_unknown_emails_too(api_client, settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES": 2}
    for _ in range(2):
        login(api_client, "ghost@example.com", "whatever-it-is")

    # when
    response = login(api_client, "GHOST@example.com", "whatever-it-is")

    # then
    assert response.status_code == 429
    assert User.objects.count() == 0


def test_login_success_resets_the_failure_count(api_client, user, settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES": 3}
    for _ in range(2):
        login(api_client, user.email, "Wrong-Passw0rd!")
    assert login(api_client, user.email, PASSWORD).status_code == 200

    # when
    for _ in range(2):
        login(api_client, user.email, "Wrong-Passw0rd!")
    response = login(api_client, user.email, PASSWORD)

    # then
    assert response.status_code == 200


def test_login_failure_counts_live_in_the_database_cache(api_client, user):
    # when
    login(api_client, user.email, "Wrong-Passw0rd!")

    # then: shared by every worker because it is a table, not process memory
    assert settings.CACHES["default"]["LOCATION"] == "auth_cache"
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM auth_cache")
        assert cursor.fetchone()[0] == 2  # the (email, IP) and the IP counters


def test_login_with_idempotency_key_stores_no_tokens(api_client, user):
    # given
    from common.idempotency.models import IdempotencyRecord

    body = {"email": user.email, "password": PASSWORD}

    # when
    first = api_client.post("/login", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    second = api_client.post("/login", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    # then: two independent logins, and no bearer token kept in the replay store
    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["refresh_token"] != second.json()["data"]["refresh_token"]
    assert IdempotencyRecord.objects.count() == 0


def test_login_locks_out_an_ip_spraying_many_accounts(api_client, user, settings):
    # given: one password tried once each on many accounts from one IP
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES": 3, "LOGIN_MAX_FAILURES_PER_IP": 4}
    for n in range(4):
        assert login(api_client, f"victim{n}@example.com", "Spring2026!").status_code == 401

    # when: even a right password of another account from that IP
    response = login(api_client, user.email, PASSWORD)

    # then
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= settings.ACCOUNTS["LOGIN_FAILURE_WINDOW"]
    assert response.json()["error"]["type"] == "rate_limited"
    user.refresh_from_db()
    assert user.last_login is None


def test_login_ip_lockout_spares_other_ips(api_client, user, settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES_PER_IP": 2}
    for n in range(2):
        login(api_client, f"victim{n}@example.com", "Spring2026!")

    # when
    response = login(api_client, user.email, PASSWORD, REMOTE_ADDR="10.0.0.9")

    # then
    assert response.status_code == 200


def test_login_success_does_not_reset_the_ip_counter(api_client, user, settings):
    # given: an attacker owning one account logs into it between guesses
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES_PER_IP": 3}
    login(api_client, "victim0@example.com", "Spring2026!")
    login(api_client, "victim1@example.com", "Spring2026!")
    assert login(api_client, user.email, PASSWORD).status_code == 200
    login(api_client, "victim2@example.com", "Spring2026!")

    # when
    response = login(api_client, "victim3@example.com", "Spring2026!")

    # then
    assert response.status_code == 429


def test_login_per_ip_limit_defaults_to_50():
    assert settings.ACCOUNTS["LOGIN_MAX_FAILURES_PER_IP"] == 50
