"""Assertion helpers for the contract's envelopes and the tokens auth_svc signs."""

from __future__ import annotations

import jwt
from django.conf import settings


def verified_claims(token: str) -> dict:
    """Decode a token the way every service does: RS256, public key, iss and aud checked."""
    return jwt.decode(
        token,
        settings.SIMPLE_JWT["VERIFYING_KEY"],
        algorithms=["RS256"],
        audience=settings.SIMPLE_JWT["AUDIENCE"],
        issuer=settings.SIMPLE_JWT["ISSUER"],
    )


def error(status: int, error_type: str, message: str, details=None) -> dict:
    return {"status": status, "error": {"type": error_type, "message": message, "details": details}}


def field_errors(*pairs: tuple[str, str]) -> dict:
    return error(400, "validation", "Validation failed.", [{"field": field, "message": msg} for field, msg in pairs])


UNAUTHENTICATED = error(401, "unauthorized", "Authentication credentials were not provided.")
FORBIDDEN = error(403, "forbidden", "Your role does not allow this operation.")
