"""Read what an identity provider's claims say about a member of staff, one way for every service.

The role comes from one claim, ``SSO["ROLE_CLAIM"]`` (``role`` by default: what auth_svc
issues). It may be a dotted path into nested claims (Keycloak: ``realm_access.roles``) and
hold one value or a list (Entra ID's ``roles``); only the platform's role names count
(contract §3). A list naming several of them gives the most powerful one, so the
precedence below is the only rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from common.settings.env import zone_named

# Most powerful first.
ROLE_PRECEDENCE = (ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER)


class ClaimsRefused(Exception):
    """The claims cannot identify a member of staff (no email): nobody is signed in."""


@dataclass(frozen=True)
class StaffClaims:
    email: str
    role: str | None  # a platform role, or None: the account holds none (no admin access)
    zoneinfo: str | None  # an IANA time zone the account prefers, if the provider says one


def claim_value(claims: dict, path: str):
    """Return the claim at a dotted ``path`` (``realm_access.roles``), or None."""
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_from(value) -> str | None:
    """Return the platform role a claim value names (a string or a list of them), or None."""
    listed = value if isinstance(value, list | tuple) else [value]
    values = {entry for entry in listed if isinstance(entry, str)}  # a provider may nest anything
    return next((role for role in ROLE_PRECEDENCE if role in values), None)


def _time_zone(value) -> str | None:
    return value if zone_named(value) is not None else None


def staff_claims(claims: dict, *, role_claim: str) -> StaffClaims:
    """Return the staff-relevant part of ``claims``; :class:`ClaimsRefused` without an email."""
    if not isinstance(claims, dict):  # a provider's userinfo answer is JSON, not always an object
        raise ClaimsRefused("The identity provider's claims are not an object.")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise ClaimsRefused("The identity provider sent no email for this account.")
    return StaffClaims(
        email=email.strip().lower(),
        role=role_from(claim_value(claims, role_claim)),
        zoneinfo=_time_zone(claims.get("zoneinfo")),
    )
