"""The admins' authentication backend: mozilla-django-oidc's code flow, then the local staff user.

mozilla-django-oidc exchanges the code (PKCE), verifies the ID token's RS256 signature
with the provider's JWKS and its nonce, and reads the userinfo endpoint. On top of that
this backend checks what the library leaves out (the token's issuer and audience), and
hands the claims to the staff-user module (``SSO["STAFF_USERS"]``: :mod:`common.sso.staff`,
or auth_svc's own), which keeps the local user in step and says whether it may sign in.
"""

from __future__ import annotations

import logging
from importlib import import_module

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .claims import ClaimsRefused, StaffClaims, staff_claims

logger = logging.getLogger(__name__)

# What a provider that is down, or answers what fails a check, raises through the library:
# an unreachable or refusing endpoint, a token whose signature, expiry or claims are wrong
# (PyJWT's errors are none of the others), an answer that is not JSON.
PROVIDER_FAILURES = (requests.RequestException, SuspiciousOperation, jwt.PyJWTError, ValueError)
# Of those, the ones that say nothing about the account: the provider did not answer (in time).
PROVIDER_UNREACHABLE = (requests.ConnectionError, requests.Timeout)
# Where the session keeps why the last sign-in failed, for the refusal page (:func:`views.staff_refused`).
REFUSAL_KEY = "sso_refusal"


def staff_users():
    """Return the module that keeps local staff users in step (``staff_user_sync``, ``staff_user_lapse``)."""
    return import_module(settings.SSO["STAFF_USERS"])


def claims_for_staff(userinfo: dict) -> StaffClaims:
    return staff_claims(userinfo, role_claim=settings.SSO["ROLE_CLAIM"])


class StaffOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        # A provider that is down, refuses the code or sends a token that fails a check is
        # a failed sign-in (the refusal page), never a 500.
        try:
            return super().authenticate(request, **kwargs)
        except PROVIDER_FAILURES as exc:
            logger.warning("sign-in failed: %s", type(exc).__name__)
            if request is not None and isinstance(exc, PROVIDER_UNREACHABLE):
                request.session[REFUSAL_KEY] = "unreachable"
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if payload.get("iss") != settings.SSO["ISSUER"] or self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued by another provider or for another client.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        try:
            claims = claims_for_staff(userinfo)
        except ClaimsRefused as exc:
            raise SuspiciousOperation(str(exc)) from None
        # The ID token and userinfo must be about the same account (OIDC Core §5.3.2).
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another account than the ID token.")
        user = staff_users().staff_user_sync(claims=claims)
        if user is None:
            logger.info("sign-in refused: the account holds no platform role")
            return None
        # Read by the callback view once the user is logged in (the session may be new then).
        user.staff_claims = claims
        return user

    def userinfo_user(self, access_token: str):
        """Re-read the account with the access token of the sign-in; return the in-step user or None.

        Raises ``requests.RequestException`` when the provider cannot be asked or refuses the
        token (deactivated account, token revoked or expired).
        """
        userinfo = self.get_userinfo(access_token, None, None)
        try:
            claims = claims_for_staff(userinfo)
        except ClaimsRefused:
            return None
        return staff_users().staff_user_sync(claims=claims)

    def get_user(self, user_id):
        # Django's ModelBackend refuses an inactive user; the library's get_user does not.
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
