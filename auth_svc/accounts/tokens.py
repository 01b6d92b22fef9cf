"""Mint the contract's JWTs (contract §3) with simplejwt and auth_svc's private key.

User tokens carry ``user_id``, ``email``, ``role``, ``type: user`` and ``access_version``; service tokens carry
``user_id`` = the service's name and ``type: service`` and no role. simplejwt adds ``exp``,
``iat``, ``jti``, ``token_type`` (access/refresh) and, from the settings, ``iss``/``aud``.
Refresh tokens are recorded as outstanding so they can be blacklisted (rotation, logout,
password reset); access tokens are stateless, and refused everywhere once their user's
``access_version`` has gone past theirs (common.withdrawals).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from common import withdrawals
from common.authentication import HOME_SCOPE, SCOPE_CLAIM, ContractClaimsMixin

from .models import User

USER_TOKEN = "user"
SERVICE_TOKEN = "service"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


class ContractRefreshToken(ContractClaimsMixin, RefreshToken):
    """A refresh token as auth_svc issues it: the contract's claims, with the right types."""


def access_lifetime_seconds() -> int:
    return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def token_pair_for_user(*, user: User) -> TokenPair:
    """Return a new access/refresh pair whose claims reflect the user as stored now."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.id)
    refresh["email"] = user.email
    refresh["role"] = user.role
    refresh["type"] = USER_TOKEN
    # Read under the user's row lock (accounts.services): a token minted before a withdrawal
    # carries the older count and is refused everywhere (common.withdrawals).
    refresh[withdrawals.CLAIM] = user.access_version
    # Recorded after the claims are set (simplejwt's for_user records it before), so the
    # stored copy is the token really handed out; the jti is what blacklisting uses.
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    # The access token copies every claim of the refresh token but its own type, exp, iat, jti.
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        expires_in=access_lifetime_seconds(),
    )


def home_token_for_user(*, user: User, lifetime: dt.timedelta) -> str:
    """Return an access token alone (no refresh token, nothing recorded) living ``lifetime``, scoped to the home.

    For the back office's home, which reads the services' figures with the signed-in person's
    own rights (accounts.sso.views.session_token): the contract's claims, and ``scope: home``,
    so every service refuses it anywhere but the summaries the home reads (common.authentication),
    whatever the person's role may do with a token of their own. Like any access token it is
    refused once its user's ``access_version`` has gone past its own.
    """
    token = AccessToken()
    token.set_exp(lifetime=lifetime)
    token[api_settings.USER_ID_CLAIM] = str(user.id)
    token["email"] = user.email
    token["role"] = user.role
    token["type"] = USER_TOKEN
    token[withdrawals.CLAIM] = user.access_version
    token[SCOPE_CLAIM] = HOME_SCOPE
    return str(token)


def access_token_for_service(*, service_name: str) -> str:
    token = AccessToken()
    token[api_settings.USER_ID_CLAIM] = service_name
    token["type"] = SERVICE_TOKEN
    return str(token)
