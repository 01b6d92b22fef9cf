"""The gateway's token check: common's verification, with successes remembered for a while.

Verifying an RS256 access token (base64, JSON, an RSA signature, the claims) costs the
gateway more CPU than the rest of a proxied request. Verification is stateless (the same
token always verifies the same way until ``exp``), so a success is kept in a small bounded
per-process LRU keyed by the SHA-256 of the raw token, with its claims and ``exp``. A
changed byte anywhere in the token is a different key, so a tampered token is never served
from the cache; a cached token is refused from its ``exp`` on, exactly as the verifier would
(PyJWT: expired when ``exp <= now``, leeway 0). Failures are not cached: an invalid token is
verified (and refused) every time. Whether its user's access was withdrawn since
(common.withdrawals) is asked on every request, hit or miss.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings

from common import withdrawals
from common.authentication import authenticate_header_value

from . import metrics

Claims = dict[str, Any]
# What the cache answers for a token it holds whose exp has passed: refused without a second look.
EXPIRED: Claims = {}


class VerifiedTokenCache:
    """A thread-safe LRU of verified tokens: sha256(token) -> (exp, claims)."""

    def __init__(self, max_size: int):
        self.max_size = max_size
        self._entries: OrderedDict[bytes, tuple[float, Claims]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes, now: float) -> Claims | None:
        """Return the claims, None if the token is unknown, or ``EXPIRED`` (and forget it) from its exp on."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:  # never accepted again, and no longer worth keeping
                del self._entries[key]
                return EXPIRED
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: bytes, exp: float, claims: Claims) -> None:
        if self.max_size <= 0:
            return
        with self._lock:
            self._entries[key] = (exp, claims)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


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
    key = hashlib.sha256(parts[1].encode()).digest()
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
