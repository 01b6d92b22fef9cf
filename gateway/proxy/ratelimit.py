"""Rate limits at the gateway: a token bucket per signed-in user and one per anonymous client address.

A bucket holds up to ``burst`` tokens and gains ``rate`` a second; a request takes one, or is
refused (429 ``rate_limited`` with ``Retry-After``) until one has grown back. Users are keyed
by their token's subject (``user_id``), so one leaked token cannot take everyone's capacity;
requests without a valid token by the client's address as the gateway trusts it
(:func:`proxy.proxy.client_address`), an IPv6 client by its /64 (:func:`address_key`). A rate
of 0 turns that limit off.

The buckets live in each worker process's memory: no store, no extra hop per request. A
replica running W workers therefore admits up to W times the configured rate from one client,
and N replicas N x W times (docs/configuration.md gives the arithmetic). Memory stays bounded:
a bucket untouched for ``burst / rate`` seconds is full again, the same as no bucket at all,
so it is dropped; and beyond ``max_buckets`` the least recently used goes first (that client
starts again from a full bucket, which errs towards serving). One lock guards each limiter
for a few dictionary operations, no I/O: safe under gthread's threads and gevent's greenlets.

A refused client is logged once a minute at most, not once per refused request.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from common.exceptions import RateLimited, service_error_response

from . import metrics
from .proxy import client_address

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
# Refusals are logged once per client and this many seconds.
LOG_INTERVAL = 60.0
# One IPv6 host is routinely given a whole /64 (RFC 7421; SLAAC privacy addresses rotate inside it):
# keyed by its full address it could take a fresh bucket for every request.
IPV6_CLIENT_PREFIX = 64


class TokenBuckets:
    """Token buckets by key, thread-safe, bounded, ordered from the least recently used."""

    def __init__(self, rate: float, burst: float, *, max_buckets: int = 100_000, clock: Clock = time.monotonic):
        self.rate = float(rate)
        self.burst = float(max(burst, 1))
        self.max_buckets = max_buckets
        self.clock = clock
        # Seconds after which an untouched bucket is full again, so forgetting it changes nothing.
        self.refill_seconds = self.burst / self.rate if self.rate > 0 else 0.0
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # key -> [tokens, updated_at]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, *, spend: bool = True) -> float:
        """Take one token for ``key``: return 0 if it had one, else the seconds until it will.

        With ``spend`` false, only look: the same answer, and the token stays.
        """
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = [self.burst, now]
            else:
                self._buckets.move_to_end(key)
                bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
                bucket[1] = now
            self._forget_idle(now)
            if bucket[0] >= 1.0:
                if spend:
                    bucket[0] -= 1.0
                return 0.0
            return (1.0 - bucket[0]) / self.rate

    def _forget_idle(self, now: float) -> None:
        # The least recently used come first: stop at the first bucket still refilling.
        buckets = self._buckets
        while buckets:
            key, (_, updated_at) = next(iter(buckets.items()))
            if now - updated_at < self.refill_seconds and len(buckets) <= self.max_buckets:
                return
            del buckets[key]


class RefusalLog:
    """Log a refused client at most once per ``interval`` seconds (bounded like the buckets)."""

    def __init__(self, *, interval: float = LOG_INTERVAL, max_clients: int = 10_000, clock: Clock = time.monotonic):
        self.interval = interval
        self.max_clients = max_clients
        self.clock = clock
        self._logged_at: OrderedDict[str, float] = OrderedDict()  # in the order they were logged
        self._lock = threading.Lock()

    def should_log(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            logged = self._logged_at
            while logged:
                oldest, at = next(iter(logged.items()))
                if now - at < self.interval and len(logged) < self.max_clients:
                    break
                del logged[oldest]
            if key in logged:
                return False
            logged[key] = now
            return True


class Limiter:
    """The gateway's two limits (users, anonymous addresses) and the refusal log, from settings.

    The admins' static files take no token, but a read under their prefix that finds no file
    (answered by the admin's Django) counts in a third set of buckets, per address at the
    anonymous rate: once it is empty, that address's static reads are refused too. So a page's
    assets never use up a client's limit, and the prefix is no way around it.
    """

    def __init__(self, config: dict, *, clock: Clock = time.monotonic):
        anonymous_rate, anonymous_burst = config["ANONYMOUS_RATE"], config["ANONYMOUS_BURST"]
        self.users = _buckets(config["USER_RATE"], config["USER_BURST"], config["MAX_BUCKETS"], clock)
        self.anonymous = _buckets(anonymous_rate, anonymous_burst, config["MAX_BUCKETS"], clock)
        self.static_misses = _buckets(anonymous_rate, anonymous_burst, config["MAX_BUCKETS"], clock)
        self.refusals = RefusalLog(clock=clock)

    def check(self, request: HttpRequest, claims: dict | None) -> HttpResponse | None:
        """Return the 429 for a request over its limit, or None to serve it."""
        subject = claims.get("user_id") if claims else None
        if subject is not None:
            return self._refusal(self.users, f"user:{subject}", "user")
        return self._refusal(self.anonymous, _address_bucket(request), "anonymous")

    def check_static_read(self, request: HttpRequest) -> HttpResponse | None:
        """Return the 429 for a static read of an address whose misses used up their bucket (no token taken)."""
        return self._refusal(self.static_misses, _address_bucket(request), "anonymous", spend=False)

    def count_static_miss(self, request: HttpRequest) -> None:
        """Take a token for a static read that found no file (it was served: this never refuses)."""
        if self.static_misses is not None:
            self.static_misses.take(_address_bucket(request))

    def _refusal(
        self, buckets: TokenBuckets | None, key: str, client: str, *, spend: bool = True
    ) -> HttpResponse | None:
        if buckets is None:
            return None
        wait = buckets.take(key, spend=spend)
        if not wait:
            return None
        metrics.RATE_LIMITED.labels(client).inc()
        if self.refusals.should_log(key):
            logger.warning("rate limited %s (%s requests/s, burst %s)", key, buckets.rate, int(buckets.burst))
        return service_error_response(RateLimited(wait=wait))


def _address_bucket(request: HttpRequest) -> str:
    return f"address:{address_key(client_address(request))}"


def address_key(address: str) -> str:
    """Return the bucket of a client address: an IPv4 address itself (mapped or not), an IPv6 one its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:  # a dual-stack socket's view of an IPv4 client
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))


def _buckets(rate: float, burst: float, max_buckets: int, clock: Clock) -> TokenBuckets | None:
    return TokenBuckets(rate, burst, max_buckets=max_buckets, clock=clock) if rate > 0 else None


_limiter: Limiter | None = None
_limiter_lock = threading.Lock()


def limiter() -> Limiter:
    """Return the process-wide limiter, made from ``settings.GATEWAY["RATE_LIMITS"]`` on first use."""
    global _limiter
    if _limiter is None:
        with _limiter_lock:
            if _limiter is None:
                _limiter = Limiter(settings.GATEWAY["RATE_LIMITS"])
    return _limiter


def reset(*, clock: Clock | None = None) -> Limiter:
    """Start again with empty buckets read from the current settings (tests: with their own clock)."""
    global _limiter
    with _limiter_lock:
        _limiter = Limiter(settings.GATEWAY["RATE_LIMITS"], clock=clock or time.monotonic)
    return _limiter


def refused(request: HttpRequest, claims: dict | None) -> HttpResponse | None:
    """Return the 429 if this request is over its client's limit, else None."""
    return limiter().check(request, claims)
