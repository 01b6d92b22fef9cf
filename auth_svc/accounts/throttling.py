"""Count failed logins per (email, client IP) and lock the pair out after too many.

Counters live in the database cache (settings.CACHES) so every gunicorn worker sees the
same numbers. The window is fixed from the first failure; when it ends the counter
vanishes with the cache entry. Keying on email *and* IP means an attacker guessing one
account is stopped without locking its owner out from everywhere else. A success resets
the counter. The read-modify-write is not atomic across workers, so a burst of parallel
guesses may overshoot the limit by a few: acceptable for a lock-out, not for money.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

KEY_PREFIX = "login-failures:"


def client_ip(request) -> str:
    """Return the caller's IP, trusting ``X-Forwarded-For`` only for ``NUM_PROXIES`` hops."""
    return BaseThrottle().get_ident(request)


def _key(*, email: str, ip: str) -> str:
    # Hashed: cache keys have a length limit and need not hold personal data.
    return KEY_PREFIX + hashlib.sha256(f"{email}\n{ip}".encode()).hexdigest()


def login_lockout_seconds(*, email: str, ip: str) -> int:
    """Return how many seconds the pair is still locked out for, 0 if it may try."""
    entry = cache.get(_key(email=email, ip=ip))
    if not entry or entry["count"] < settings.ACCOUNTS["LOGIN_MAX_FAILURES"]:
        return 0
    return max(1, math.ceil(entry["reset_at"] - time.time()))


def login_failure_record(*, email: str, ip: str) -> None:
    key = _key(email=email, ip=ip)
    now = time.time()
    entry = cache.get(key)
    if not entry or entry["reset_at"] <= now:
        entry = {"count": 0, "reset_at": now + settings.ACCOUNTS["LOGIN_FAILURE_WINDOW"]}
    entry["count"] += 1
    cache.set(key, entry, timeout=max(1, math.ceil(entry["reset_at"] - now)))


def login_failures_clear(*, email: str, ip: str) -> None:
    cache.delete(_key(email=email, ip=ip))
