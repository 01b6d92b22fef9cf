"""The gateway's token check: common's verification, with successes remembered for a while.

Verifying an RS256 access token costs the gateway more CPU than the rest of a proxied
request, so a success is kept in a bounded per-process LRU of its claims
(:mod:`common.verified_tokens`: keyed by the token's SHA-256, refused from its ``exp`` on,
failures never kept), counted by outcome in ``metrics.TOKEN_CACHE``. Whether its user's
access was withdrawn since (common.withdrawals) is asked on every request, hit or miss.
The services' own cache of verified tokens is off here (settings): this one is the gateway's.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings

from common import withdrawals
from common.authentication import authenticate_header_value
from common.verified_tokens import EXPIRED, VerifiedTokenCache, token_key

from . import metrics

Claims = dict[str, Any]


_cache: VerifiedTokenCache | None = None
_cache_lock = threading.Lock()


def cache() -> VerifiedTokenCache:
    global _cache
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = VerifiedTokenCache(settings.GATEWAY["TOKEN_CACHE_SIZE"])
    return _cache


def clear_cache() -> None:
    """Forget every verified token (tests; a key rotation restarts the process anyway)."""
    global _cache
    with _cache_lock:
        _cache = None


def _now() -> float:
    return time.time()


def verified_claims(authorization: str | None) -> Claims | None:
    """Return the claims of a valid ``Bearer`` access token, or None (absent, malformed, invalid, expired)."""
    if not authorization:
        return None
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer" or parts[1].count(".") != 2:
        return None  # not even a JWT (header.payload.signature): refused at once, synced or not
    # A process that never fetched the withdrawals, or not for too long, cannot judge a token:
    # a 503 (common.withdrawals), before the cache could answer for it.
    withdrawals.judgement_required()
    key = token_key(parts[1])
    tokens = cache()
    claims = tokens.get(key, _now())
    if claims is EXPIRED:
        metrics.TOKEN_CACHE.labels("expired").inc()
        return None
    if claims is not None:
        metrics.TOKEN_CACHE.labels("hit").inc()
        # Cached as verified, but its user's access may have been withdrawn since.
        return None if withdrawals.token_withdrawn(claims) else claims
    metrics.TOKEN_CACHE.labels("miss").inc()
    user = authenticate_header_value(authorization)  # withdrawn access included
    if user is None:
        return None
    claims = dict(user.token.payload)
    exp = claims.get("exp")
    if isinstance(exp, int | float):  # always, for a token that verified (exp is required)
        tokens.put(key, float(exp), claims)
    return claims
