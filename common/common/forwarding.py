"""Whose address a request comes from: the peer's, or the client's as a trusted proxy vouches for it.

Throttles and lockouts key on the client's address (contract §3). Behind the gateway the
peer is the gateway, so the client's address has to come from ``X-Forwarded-For``, which
anybody can send. A peer's address proves nothing either: on one host the gateway and an
attacker are both 127.0.0.1. So the gateway proves itself with a credential of its own,
its service token (``type: service``, ``user_id: gateway``, verified with the public key
like any token) in :data:`PROXY_TOKEN_HEADER`, a header it strips from what clients send.
Only then is the last ``X-Forwarded-For`` entry, the one the gateway appended, believed.
"""

from __future__ import annotations

import ipaddress

from rest_framework.exceptions import AuthenticationFailed

from .authentication import JWTAuthentication

PROXY_TOKEN_HEADER = "X-Gateway-Token"


def proxy_vouches(request, *, proxy_name: str | None) -> bool:
    """True if the request carries ``proxy_name``'s own service token in :data:`PROXY_TOKEN_HEADER`."""
    token = request.headers.get(PROXY_TOKEN_HEADER)
    return bool(proxy_name and token and _vouches(token, proxy_name))


def _vouches(token: str, proxy_name: str) -> bool:
    """True if ``token`` is a valid service token of the service ``proxy_name``."""
    try:
        payload = JWTAuthentication().get_validated_token(token.encode()).payload
    except AuthenticationFailed:
        return False
    return payload["type"] == "service" and payload["user_id"] == proxy_name


def last_forwarded(value: str) -> str | None:
    """Return the last ``X-Forwarded-For`` entry (the one the nearest proxy appended) if it is an address."""
    candidate = value.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_address(request, *, trusted_proxy: str | None) -> str:
    """Return the client's address: the forwarded one if ``trusted_proxy``'s token vouches for it, else the peer."""
    peer = request.META.get("REMOTE_ADDR", "")
    if not proxy_vouches(request, proxy_name=trusted_proxy):
        return peer
    return last_forwarded(request.headers.get("X-Forwarded-For", "")) or peer
