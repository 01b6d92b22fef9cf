"""Mint tokens the way auth_svc does, with the test session's private key (``erp_testkit.plugin``)."""

from __future__ import annotations

import time
import uuid
from functools import lru_cache

import jwt
from django.conf import settings
from rest_framework.test import APIClient

from .plugin import session_private_key


def issue_token(
    *,
    role: str | None = "admin",
    token_type: str = "user",
    user_id: str | None = None,
    email: str | None = None,
    lifetime: int = 300,
    private_key: str | None = None,
    algorithm: str = "RS256",
    jwt_type: str = "access",
    **overrides,
) -> str:
    """Return a signed token like auth_svc's; ``token_type`` is the contract's ``type`` claim.

    ``jwt_type`` is simplejwt's ``token_type`` claim (``access`` or ``refresh``). An
    override of ``None`` drops the claim, to test tokens that lack it.
    """
    now = int(time.time())
    jwt_settings = settings.SIMPLE_JWT
    claims = {
        "user_id": user_id or (str(uuid.uuid4()) if token_type == "user" else "sales"),
        "email": email if email is not None else (f"{role}@example.com" if token_type == "user" and role else None),
        "role": role if token_type == "user" else None,
        "type": token_type,
        "token_type": jwt_type,
        "iss": jwt_settings["ISSUER"],
        "aud": jwt_settings["AUDIENCE"],
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    claims = {key: value for key, value in claims.items() if value is not None}
    return jwt.encode(claims, _signing_key(private_key or session_private_key(), algorithm), algorithm=algorithm)


@lru_cache(maxsize=8)
def _signing_key(key: str, algorithm: str):
    """``key`` as PyJWT signs with it, parsed once: an RSA PEM's parse checks the key, 34 ms a time here.

    (auth_svc's own tokens come from simplejwt, whose backend parses its key once too.)
    """
    return jwt.PyJWS().get_algorithm_by_name(algorithm).prepare_key(key)


def auth_client(role: str | None = "admin", **token_kwargs) -> APIClient:
    """Return an APIClient that sends a bearer token made by :func:`issue_token`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(role=role, **token_kwargs)}")
    return client
