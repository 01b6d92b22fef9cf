"""Fixed-window counters in the database cache: login lock-outs and the reset-request throttle.

Counters live in the database cache (settings.CACHES) so every gunicorn worker sees the
same numbers. A window is fixed from its first hit; when it ends the counter vanishes
with the cache entry. The read-modify-write is not atomic across workers, so a burst of
parallel requests may overshoot a limit by a few: acceptable for a throttle, not for money.

Login (``ACCOUNTS["LOGIN_*"]``), two counters of *failed* logins in the same window:

- per (email, client IP), ``LOGIN_MAX_FAILURES``: an attacker guessing one account is
  stopped without locking its owner out from everywhere else; a success resets it;
- per client IP, ``LOGIN_MAX_FAILURES_PER_IP``: one IP cannot spray a password across
  many accounts. A success does *not* reset it (else one valid account would let an
  attacker clear it between guesses); it simply expires with its window.

Forgot-password (``ACCOUNTS["RESET_*"]``): every request counts, per client IP and per
email, ``RESET_MAX_REQUESTS`` per ``RESET_WINDOW`` seconds, whether the email exists or
not, so the throttle itself tells nobody which emails are registered.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from common.forwarding import client_address

KEY_PREFIX = "login-failures:"
IP_KEY_PREFIX = "login-failures-ip:"
RESET_IP_KEY_PREFIX = "reset-requests-ip:"
RESET_EMAIL_KEY_PREFIX = "reset-requests-email:"


def client_ip(request) -> str:
    """Return the caller's IP: the peer's, or the forwarded one the gateway's token vouches for.

    ``ACCOUNTS["TRUSTED_PROXY"]`` names the service (the gateway) whose service token in
    ``X-Gateway-Token`` makes its ``X-Forwarded-For`` believed; see common.forwarding.
    """
    return client_address(request, trusted_proxy=settings.ACCOUNTS["TRUSTED_PROXY"])


def _key(prefix: str, *parts: str) -> str:
    # Hashed: cache keys have a length limit and need not hold personal data.
    return prefix + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _wait_seconds(key: str, limit: int) -> int:
    """Seconds until the counter under ``key`` drops below ``limit``; 0 if it is below now."""
    entry = cache.get(key)
    if not entry or entry["count"] < limit:
        return 0
    return max(1, math.ceil(entry["reset_at"] - time.time()))


def _hit(key: str, window: int) -> None:
    now = time.time()
    entry = cache.get(key)
    if not entry or entry["reset_at"] <= now:
        entry = {"count": 0, "reset_at": now + window}
    entry["count"] += 1
    cache.set(key, entry, timeout=max(1, math.ceil(entry["reset_at"] - now)))


# ---------------------------------------------------------------- login


def login_lockout_seconds(*, email: str, ip: str) -> int:
    """Return how many seconds the (email, IP) pair or the IP is still locked out for, 0 if it may try."""
    conf = settings.ACCOUNTS
    return max(
        _wait_seconds(_key(KEY_PREFIX, email, ip), conf["LOGIN_MAX_FAILURES"]),
        _wait_seconds(_key(IP_KEY_PREFIX, ip), conf["LOGIN_MAX_FAILURES_PER_IP"]),
    )


def login_failure_record(*, email: str, ip: str) -> None:
    window = settings.ACCOUNTS["LOGIN_FAILURE_WINDOW"]
    _hit(_key(KEY_PREFIX, email, ip), window)
    _hit(_key(IP_KEY_PREFIX, ip), window)


def login_failures_clear(*, email: str, ip: str) -> None:
    """Forget the pair's failures after a success; the per-IP counter is left to expire."""
    cache.delete(_key(KEY_PREFIX, email, ip))


# ---------------------------------------------------------------- forgot-password


def reset_request_wait_seconds(*, email: str, ip: str) -> int:
    """Count one reset request of ``email`` from ``ip``; return 0, or the wait if over the limit.

    A refused request is not counted, so the lock-out ends with the window.
    """
    conf = settings.ACCOUNTS
    limit, window = conf["RESET_MAX_REQUESTS"], conf["RESET_WINDOW"]
    keys = (_key(RESET_IP_KEY_PREFIX, ip), _key(RESET_EMAIL_KEY_PREFIX, email))
    wait = max(_wait_seconds(key, limit) for key in keys)
    if wait:
        return wait
    for key in keys:
        _hit(key, window)
    return 0
