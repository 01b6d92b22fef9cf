"""Stateless JWT authentication: verify auth_svc's RS256 tokens with the public key alone.

simplejwt does the cryptography and the standard claims (``exp``, ``iss``, ``aud``,
``token_type`` = access, only RS256 accepted); this module adds the contract's own
claims and their types (``type`` is ``user`` or ``service``, ``exp`` an integer...), the
refusal of a user token whose access was withdrawn since (:mod:`common.withdrawals`), the
refusal of a scoped token (the back office home's) anywhere but the views it is for, and a
user object that carries ``role``. A token that verified is kept until its ``exp``
(:mod:`common.verified_tokens`, ``ERP["VERIFIED_TOKENS_CACHE_SIZE"]`` of them): a caller sends
the same token with every request, and the RSA check was most of a small request's CPU;
the withdrawal and scope checks still run on every request. Every token that fails to verify, for whatever
reason, is the same 401 with the same message (``common.exceptions.TokenInvalid``).
No database is touched: any service can verify, none but auth_svc can mint.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid

from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, PermissionDenied
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.models import TokenUser as SimpleTokenUser
from rest_framework_simplejwt.tokens import AccessToken

from . import withdrawals
from .roles import ROLES
from .verified_tokens import EXPIRED, VerifiedTokenCache, token_key

logger = logging.getLogger(__name__)

TOKEN_TYPES = ("user", "service")
REQUIRED_CLAIMS = ("user_id", "type", "iss", "aud", "exp", "iat", "jti")
# 9999-12-31: beyond it a timestamp is no date Python can make (OverflowError, a 500).
MAX_TIMESTAMP = 253_402_300_799

# The one answer to a bad token, at the gateway and at every service alike: it says
# nothing about which check failed (expired, forged, wrong claim), so a probe learns nothing.
TOKEN_INVALID_MESSAGE = "Invalid or expired token."
TOKEN_MISSING_MESSAGE = str(NotAuthenticated.default_detail)

# A token's ``scope`` (absent: whatever its role allows). The token auth_svc hands the gateway for the back office's
# home (``POST /sso/session/token``) reads the summaries marked :func:`home_summary`, and nothing else.
SCOPE_CLAIM = "scope"
HOME_SCOPE = "home"
SCOPES = (HOME_SCOPE,)


class TokenInvalid(AuthenticationFailed):
    default_detail = TOKEN_INVALID_MESSAGE
    default_code = "token_not_valid"


class TokenOutOfScope(PermissionDenied):
    default_detail = "This token only reads the back office's home figures."


def home_summary(handler):
    """Mark a view's ``get`` (or a viewset's action) as one the back office's home reads with its scoped token."""
    handler.home_summary = True
    return handler


def _is_home_summary(request) -> bool:
    view = (getattr(request, "parser_context", None) or {}).get("view")
    handler = getattr(view, getattr(view, "action", None) or "get", None)
    return request.method in ("GET", "HEAD") and getattr(handler, "home_summary", False)


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

    @property
    def is_scoped(self) -> bool:
        """True for a token limited to some views (``scope``): the home's, which writes nothing."""
        return SCOPE_CLAIM in self.token

    def __str__(self) -> str:
        return f"{self.token_type}:{self.id}"


def actor_of(user) -> str:
    """Name who made a change (the ledger's and the status history's ``actor``): the token's email, else its id."""
    return getattr(user, "email", None) or str(user.id)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def claim_type_errors(payload: dict) -> list[str]:
    """Return what is wrong with the claims' presence and types (contract §3); empty if nothing is."""
    missing = [claim for claim in REQUIRED_CLAIMS if claim not in payload]
    if missing:
        return [f"lacks claims: {', '.join(missing)}"]
    errors = []
    for claim in ("exp", "iat"):
        # bool is an int in Python; a float or a string would break the date arithmetic later.
        value = payload[claim]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIMESTAMP:
            errors.append(f"{claim} is not a timestamp")
    if payload["type"] not in TOKEN_TYPES:
        errors.append("type is not user or service")
    for claim in ("user_id", "jti", "iss"):
        if not isinstance(payload[claim], str) or not payload[claim]:
            errors.append(f"{claim} is not a string")
    if payload["type"] == "user" and payload.get("role") not in ROLES:
        errors.append("user token lacks a known role")
    if payload["type"] == "user" and isinstance(payload["user_id"], str) and not _is_uuid(payload["user_id"]):
        # Users are rows keyed by UUID: anything else would reach a look-up (``me``,
        # refresh) as a 400 or a 500 instead of the one 401.
        errors.append("user_id of a user token is not a UUID")
    if not isinstance(payload.get("email", ""), str | None):
        errors.append("email is not a string")
    if SCOPE_CLAIM in payload and payload[SCOPE_CLAIM] not in SCOPES:
        errors.append(f"{SCOPE_CLAIM} is not one the contract knows")
    version = payload.get(withdrawals.CLAIM, 0)
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= withdrawals.MAX_VERSION:
        errors.append(f"{withdrawals.CLAIM} is not a count")
    return errors


class ContractClaimsMixin:
    """For a simplejwt token class: require the contract's claims, with the right types.

    The types are checked before simplejwt's own checks run: they assume them (a string
    ``exp`` would be a ``TypeError`` there, and a 500).
    """

    def verify(self) -> None:
        errors = claim_type_errors(self.payload)
        if errors:
            raise TokenError(f"Token {'; '.join(errors)}")
        super().verify()


class ContractAccessToken(ContractClaimsMixin, AccessToken):
    """simplejwt's access token with the contract's claims (what every service accepts)."""


@functools.cache
def verified_tokens() -> VerifiedTokenCache:
    """Return the process's cache of verified tokens (a new signing key restarts the process, emptying it).

    Two threads of a new process may each make one; the one kept answers from then on.
    """
    return VerifiedTokenCache(settings.ERP.get("VERIFIED_TOKENS_CACHE_SIZE", 0))


def _now() -> float:
    return time.time()


def clear_verified_tokens() -> None:
    """Forget every verified token (tests)."""
    verified_tokens.cache_clear()


class JWTAuthentication(JWTStatelessUserAuthentication):
    """Verify the bearer token (:class:`ContractAccessToken`); any failure is one 401 (TokenInvalid)."""

    www_authenticate_realm = "erp"

    def authenticate(self, request):
        """Authenticate as simplejwt does, then refuse a scoped token outside its views (403)."""
        found = super().authenticate(request)
        if found is not None and found[1].get(SCOPE_CLAIM) == HOME_SCOPE and not _is_home_summary(request):
            raise TokenOutOfScope()
        return found

    def get_raw_token(self, header: bytes) -> bytes | None:
        # The scheme is case-insensitive (RFC 9110 §11.1), as at the gateway.
        parts = header.split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise TokenInvalid()
        return parts[1]

    def get_validated_token(self, raw_token: bytes) -> ContractAccessToken:
        cache, key = verified_tokens(), token_key(raw_token)
        token = cache.get(key, _now())
        if token is EXPIRED:
            logger.debug("token refused: expired")
            raise TokenInvalid()
        if token is None:
            try:
                token = ContractAccessToken(raw_token)
            except TokenError as exc:
                # The reason is for the log at debug level only: the answer never says which check failed.
                logger.debug("token refused: %s", exc)
                raise TokenInvalid() from None
            cache.put(key, float(token.payload["exp"]), token)  # exp: required, an int (claim_type_errors)
        # On every request, kept or not: the user's access may have been withdrawn since.
        if withdrawals.token_withdrawn(token.payload):
            logger.debug("token refused: its user's access was withdrawn since it was minted")
            raise TokenInvalid()
        return token


def unauthorized_message(authorization: str | None) -> str:
    """Return the 401 message for a request whose token did not verify, given its ``Authorization``.

    The same rule as :class:`JWTAuthentication`, so the gateway answers as a service would:
    a ``Bearer`` credential that fails is "invalid", no (bearer) credential is "missing".
    """
    parts = (authorization or "").split()
    return TOKEN_INVALID_MESSAGE if parts and parts[0].lower() == "bearer" else TOKEN_MISSING_MESSAGE


def authenticate_header_value(authorization: str | None) -> TokenUser | None:
    """Return the token user for an ``Authorization`` header value, or None if absent or invalid.

    For code outside DRF views (middleware, the gateway) that needs the caller.
    """
    if not authorization:
        return None
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    from .exceptions import ServiceError  # not at the top: it loads DRF's settings, which load this module

    auth = JWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(parts[1].encode()))
    except AuthenticationFailed:  # InvalidToken included: "no caller"; the view answers 401 itself
        return None
    except ServiceError:  # withdrawn access not known yet: "no caller"; the view answers 503 itself
        return None
