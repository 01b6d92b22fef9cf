"""Stateless JWT authentication: verify auth_svc's RS256 tokens with the public key alone.

simplejwt does the cryptography and the standard claims (``exp``, ``iss``, ``aud``,
``token_type`` = access, only RS256 accepted); this module adds the contract's own
``type`` claim (``user`` or ``service``) and a user object that carries ``role``.
No database is touched: any service can verify, none but auth_svc can mint.
"""

from __future__ import annotations

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.models import TokenUser as SimpleTokenUser

from .roles import ROLES

TOKEN_TYPES = ("user", "service")
REQUIRED_CLAIMS = ("user_id", "type", "iss", "aud", "exp", "iat", "jti")


class TokenUser(SimpleTokenUser):
    """The caller, as its token describes it."""

    @property
    def role(self) -> str | None:
        return self.token.get("role")

    @property
    def email(self) -> str | None:
        return self.token.get("email")

    @property
    def token_type(self) -> str:
        return self.token.get("type")

    @property
    def is_service(self) -> bool:
        return self.token.get("type") == "service"

    def __str__(self) -> str:
        return f"{self.token_type}:{self.id}"


class JWTAuthentication(JWTStatelessUserAuthentication):
    """Verify the bearer token and require the contract's claims on top of simplejwt's checks."""

    www_authenticate_realm = "erp"

    def get_validated_token(self, raw_token: bytes):
        token = super().get_validated_token(raw_token)
        missing = [claim for claim in REQUIRED_CLAIMS if claim not in token.payload]
        if missing:
            raise InvalidToken({"detail": f"Token lacks claims: {', '.join(missing)}", "code": "token_not_valid"})
        payload = token.payload
        # Only auth_svc can sign, but a claim of the wrong type must still be a 401, never a 500 later.
        if payload["type"] not in TOKEN_TYPES:
            raise InvalidToken({"detail": "Token type is not user or service", "code": "token_not_valid"})
        if not isinstance(payload["user_id"], str) or not payload["user_id"]:
            raise InvalidToken({"detail": "Token user_id is not a string", "code": "token_not_valid"})
        if payload["type"] == "user" and payload.get("role") not in ROLES:
            raise InvalidToken({"detail": "User token lacks a known role", "code": "token_not_valid"})
        return token


def authenticate_header_value(authorization: str | None) -> TokenUser | None:
    """Return the token user for an ``Authorization`` header value, or None if absent or invalid.

    For code outside DRF views (middleware, the gateway) that needs the caller.
    """
    if not authorization:
        return None
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    auth = JWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(parts[1].encode()))
    except AuthenticationFailed:  # InvalidToken included: "no caller"; the view answers 401 itself
        return None
