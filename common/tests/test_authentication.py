"""JWT verification (contract §3): only auth_svc's RS256 access tokens with the contract's claims."""

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from common.authentication import (
    TOKEN_INVALID_MESSAGE,
    TOKEN_MISSING_MESSAGE,
    TokenUser,
    authenticate_header_value,
    unauthorized_message,
)
from erp_testkit import auth_client, issue_token


def _get_widgets(authorization: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get("/widgets")


def _assert_unauthorized(response, message: str):
    assert response.status_code == 401
    assert response.json() == {"status": 401, "error": {"type": "unauthorized", "message": message, "details": None}}
    assert response["WWW-Authenticate"] == 'Bearer realm="erp"'


def _tamper(token: str, **claims) -> str:
    """Change the payload of a signed token and keep its signature."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_valid_user_token_gives_the_role():
    # given
    token = issue_token(role="finance_manager", user_id="5b0c1f8e-0000-4000-8000-000000000001")

    # when
    user = authenticate_header_value(f"Bearer {token}")

    # then
    assert isinstance(user, TokenUser)
    assert user.role == "finance_manager"
    assert user.id == "5b0c1f8e-0000-4000-8000-000000000001"
    assert user.email == "finance_manager@example.com"
    assert user.is_service is False
    assert str(user) == "user:5b0c1f8e-0000-4000-8000-000000000001"


def test_valid_user_token_is_accepted_by_a_view():
    # when
    response = auth_client("inventory_manager").get("/widgets")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "OK", "data": {"name": "sprocket", "quantity": 1}}


def test_service_token_is_a_service_user():
    # when
    user = authenticate_header_value(f"Bearer {issue_token(role=None, token_type='service', user_id='sales')}")

    # then
    assert user.is_service is True
    assert user.role is None
    assert str(user) == "service:sales"


def test_expired_token_is_401():
    token = issue_token(role="admin", lifetime=-10)

    _assert_unauthorized(_get_widgets(f"Bearer {token}"), TOKEN_INVALID_MESSAGE)


def test_token_signed_with_another_key_is_401(foreign_private_key):
    token = issue_token(role="admin", private_key=foreign_private_key)

    _assert_unauthorized(_get_widgets(f"Bearer {token}"), TOKEN_INVALID_MESSAGE)


def test_alg_none_is_401():
    # given: a well-formed unsigned token with every claim right
    claims = jwt.decode(issue_token(role="admin"), options={"verify_signature": False})
    token = jwt.encode(claims, None, algorithm="none")

    _assert_unauthorized(_get_widgets(f"Bearer {token}"), TOKEN_INVALID_MESSAGE)


def test_hs256_signed_with_the_public_key_is_401():
    # given: the classic key-confusion attack, HMAC keyed with the public key's PEM
    claims = jwt.decode(issue_token(role="admin"), options={"verify_signature": False})
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    signing_input = header + b"." + payload
    secret = settings.SIMPLE_JWT["VERIFYING_KEY"].encode()
    signature = base64.urlsafe_b64encode(hmac.new(secret, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    token = (signing_input + b"." + signature).decode()

    _assert_unauthorized(_get_widgets(f"Bearer {token}"), TOKEN_INVALID_MESSAGE)


def test_tampered_claims_are_401():
    # given: an inventory manager promotes their own token
    token = _tamper(issue_token(role="inventory_manager"), role="admin")

    _assert_unauthorized(_get_widgets(f"Bearer {token}"), TOKEN_INVALID_MESSAGE)


FAR_FUTURE = 4_102_444_800  # 2100-01-01
USER_ID = "5b0c1f8e-0000-4000-8000-000000000002"


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "someone-else"},
        {"aud": "another-system"},
        {"iss": None},
        {"aud": None},
        {"jwt_type": "refresh"},
        {"jwt_type": None},
        {"jti": None},
        {"type": None},
        {"iat": None},
        {"type": "robot"},
        {"type": ["user"]},
        {"role": None},
        {"role": ""},
        {"role": "superuser"},
        {"role": ["admin"]},
        {"user_id": 42},
        {"user_id": "not-a-uuid"},
        {"jti": 7},
        {"email": ["a@example.com"]},
        {"exp": "tomorrow"},
        {"exp": str(FAR_FUTURE)},
        {"exp": float(FAR_FUTURE)},
        {"exp": True},
        {"exp": 10**20},
        {"exp": [FAR_FUTURE]},
        {"iat": "0"},
        {"iat": {"at": 0}},
        {"scope": "everything"},
        {"scope": ["home"]},
    ],
    ids=[
        "wrong-iss",
        "wrong-aud",
        "no-iss",
        "no-aud",
        "refresh-as-access",
        "no-token_type",
        "no-jti",
        "no-type",
        "no-iat",
        "unknown-type",
        "type-a-list",
        "user-without-role",
        "user-with-empty-role",
        "unknown-role",
        "role-not-a-string",
        "user_id-not-a-string",
        "user_id-of-a-user-not-a-uuid",
        "jti-not-a-string",
        "email-not-a-string",
        "exp-not-a-number",
        "exp-a-numeric-string",
        "exp-a-float",
        "exp-a-bool",
        "exp-beyond-any-date",
        "exp-a-list",
        "iat-a-string",
        "iat-an-object",
        "unknown-scope",
        "scope-a-list",
    ],
)
def test_tokens_breaking_the_contract_are_401(claims):
    # given
    token = issue_token(**{"role": "admin", **claims})

    # when
    response = _get_widgets(f"Bearer {token}")

    # then: one answer whatever failed, never which check
    _assert_unauthorized(response, TOKEN_INVALID_MESSAGE)
    assert authenticate_header_value(f"Bearer {token}") is None


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Bearer", TOKEN_INVALID_MESSAGE),
        ("Basic dXNlcjpwYXNz", TOKEN_MISSING_MESSAGE),
        ("Bearer not-a-jwt", TOKEN_INVALID_MESSAGE),
        ("bearer not-a-jwt", TOKEN_INVALID_MESSAGE),
        ("Bearer a b", TOKEN_INVALID_MESSAGE),
        ("", TOKEN_MISSING_MESSAGE),
    ],
    ids=["bearer-only", "basic", "garbage", "lower-case-scheme", "three-parts", "empty"],
)
def test_malformed_authorization_header_is_401(authorization, message):
    _assert_unauthorized(_get_widgets(authorization), message)


def test_no_token_is_401():
    _assert_unauthorized(APIClient().get("/widgets"), TOKEN_MISSING_MESSAGE)


@pytest.mark.parametrize("value", [None, "", "Bearer", "Basic abc", "Bearer a b", "Bearer not-a-jwt"])
def test_authenticate_header_value_returns_none_for_no_caller(value):
    assert authenticate_header_value(value) is None


def test_service_settings_hold_no_private_key():
    # then: services verify with the public key alone
    assert settings.SIMPLE_JWT["SIGNING_KEY"] is None
    assert settings.SIMPLE_JWT["ALGORITHM"] == "RS256"
    assert settings.SIMPLE_JWT["VERIFYING_KEY"].startswith("-----BEGIN PUBLIC KEY-----")


def test_verification_works_with_only_the_public_key():
    # given: a verifier that holds the public key and no signing key at all
    from rest_framework_simplejwt.backends import TokenBackend
    from rest_framework_simplejwt.state import token_backend

    jwt_settings = settings.SIMPLE_JWT
    verifier = TokenBackend(
        "RS256",
        signing_key=None,
        verifying_key=jwt_settings["VERIFYING_KEY"],
        audience=jwt_settings["AUDIENCE"],
        issuer=jwt_settings["ISSUER"],
    )
    token = issue_token(role="inventory_manager", user_id=USER_ID)

    # when
    claims = verifier.decode(token)

    # then: and the backend the views use is configured the same way
    assert (claims["user_id"], claims["role"]) == (USER_ID, "inventory_manager")
    assert token_backend.signing_key is None
    assert authenticate_header_value(f"Bearer {token}").role == "inventory_manager"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, TOKEN_MISSING_MESSAGE),
        ("", TOKEN_MISSING_MESSAGE),
        ("Basic dXNlcjpwYXNz", TOKEN_MISSING_MESSAGE),
        ("Bearer", TOKEN_INVALID_MESSAGE),
        ("bearer x.y.z", TOKEN_INVALID_MESSAGE),
    ],
)
def test_unauthorized_message_follows_the_views_rule(authorization, message):
    # then: what the gateway answers is what a service's view answers for the same header
    assert unauthorized_message(authorization) == message
    if authorization:
        _assert_unauthorized(_get_widgets(authorization), message)


def test_a_home_scoped_token_is_refused_anywhere_but_a_home_summary():
    # given: the token auth_svc hands the gateway for the back office's home, of an admin
    client = auth_client("admin", scope="home")

    # when: a view that is not one of the home's summaries, read and written
    read, written = client.get("/widgets"), client.post("/widgets", {"name": "x", "quantity": 1}, format="json")

    # then: refused (403, not 401: the token is good, its scope is not this), whatever the admin's role allows
    for response in (read, written):
        assert response.status_code == 403
        assert response.json()["error"] == {
            "type": "forbidden",
            "message": "This token only reads the back office's home figures.",
            "details": None,
        }
