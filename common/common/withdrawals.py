"""Withdrawn access: refuse a user's access tokens minted before a deactivation, role change or new password.

auth_svc counts, per user, how often their access was withdrawn (``access_version``: bumped in
the same transaction as the deactivation, the role change or the password reset, under the
user's row lock) and stamps the count into every token it mints (claim ``access_version``,
absent = 0). A token whose count is below its user's is refused with the one 401 (contract §3).

A count rather than a not-before time: ``iat`` has whole seconds, so a time could not tell a
token minted just before a change from one minted just after it in the same second; the row
lock orders the mint and the bump exactly.

Every verifying process (each service, the gateway) keeps the withdrawals of the last access
token lifetime in memory, ``user_id -> (access_version, withdrawn_at)``, replaced every
``ERP["ACCESS_WITHDRAWALS_POLL_SECONDS"]`` by a background thread from auth_svc's
``GET /internal/access-withdrawals`` (auth_svc itself reads its table). The answer is the whole
window, not a delta, so a change committed late is never skipped by a cursor, and a restarted
process has everything after one fetch. Older entries no longer matter (every token they
refuse has expired) and are dropped, which bounds the map.

- **Start**: until the first fetch has succeeded the process knows nothing, so it refuses to
  judge: a user token waits for that fetch (at most ``FIRST_SYNC_WAIT``), then is a 503; and
  ``/health/ready`` says not ready (:func:`check_access_withdrawals`).
- **auth_svc unreachable later**: the last map is kept (its entries still age out) and the
  polling goes on: fail-open for the outage. Nothing can be withdrawn while auth_svc is down,
  and refusing every token instead would turn an auth_svc outage into a platform one; the
  gap is a partition in which auth_svc still serves the admin but not this process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

CLAIM = "access_version"
# auth_svc's column is a PositiveIntegerField: no count it keeps is larger.
MAX_VERSION = 2**31 - 1
PATH = "/internal/access-withdrawals"
# How long a user request of a process that never synced waits for the first fetch.
FIRST_SYNC_WAIT = 3.0
# Hosts' clocks differ a little: entries are kept this much longer than the token lifetime.
CLOCK_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class Withdrawal:
    user_id: str
    access_version: int
    withdrawn_at: float  # epoch seconds, auth_svc's clock


Fetch = Callable[[], Iterable[Withdrawal]]


def keep_seconds() -> float:
    """How long a withdrawal matters: the access token lifetime, plus the clocks' margin."""
    return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + CLOCK_MARGIN_SECONDS


def fetch_from_auth() -> list[Withdrawal]:
    """Fetch the window from auth_svc's internal read, with this process's service token."""
    from .exceptions import UpstreamUnavailable
    from .http import ServiceClient

    data = ServiceClient(settings.ERP["AUTH_SERVICE_URL"]).get_json(PATH) or {}
    try:
        return [
            Withdrawal(str(row["user_id"]), int(row["access_version"]), float(row["withdrawn_at_epoch"]))
            for row in data["withdrawals"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise UpstreamUnavailable("auth_svc answered the access withdrawals with something unreadable.") from exc


class AccessWithdrawals:
    """The process's map of withdrawn access, and the thread that keeps it fresh."""

    def __init__(self, fetch: Fetch, *, poll_seconds: float):
        self.fetch = fetch
        self.poll_seconds = poll_seconds
        self._versions: dict[str, Withdrawal] = {}
        self._synced = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.failing = False

    def __len__(self) -> int:
        return len(self._versions)

    def start(self) -> None:
        """Start the polling thread once per process (a forked gunicorn worker starts its own)."""
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._poll_forever, name="access-withdrawals", daemon=True)
            self._thread.start()

    def synced(self, wait: float = 0.0) -> bool:
        """True once a fetch has succeeded; start polling (again, in a forked process) and wait up to ``wait``."""
        if not self._synced.is_set() or self._pid != os.getpid():
            self.start()
        return self._synced.wait(wait)

    def sync(self) -> None:
        """Fetch the window once and replace the map with it; on failure keep the last map (logged)."""
        try:
            rows = list(self.fetch())
        except Exception as exc:  # whatever auth_svc or the database raised: keep what we know
            if not self.failing:
                logger.warning("access withdrawals not refreshed (%s); keeping the last ones", type(exc).__name__)
            self.failing = True
            self._prune()
            return
        latest: dict[str, Withdrawal] = {}
        for row in rows:
            if row.user_id not in latest or row.access_version > latest[row.user_id].access_version:
                latest[row.user_id] = row
        self._versions = latest  # one assignment: readers see the old map or the new one
        self._prune()
        if self.failing:
            logger.warning("access withdrawals refreshed again")
        self.failing = False
        self._synced.set()

    def _prune(self) -> None:
        if not self._versions:
            return
        horizon = time.time() - keep_seconds()
        if any(row.withdrawn_at < horizon for row in self._versions.values()):
            self._versions = {user: row for user, row in self._versions.items() if row.withdrawn_at >= horizon}

    def _poll_forever(self) -> None:
        from django.db import close_old_connections

        while not self._stopped.is_set():
            self.sync()
            try:
                # As at the end of a request: auth_svc's fetch reads its database from this thread.
                close_old_connections()
            except Exception:  # a connection that cannot even close: the next fetch opens another
                logger.exception("access withdrawals: closing the database connection failed")
            self._stopped.wait(self.poll_seconds)

    def stop(self) -> None:
        """Stop polling and wait for the thread (tests; a process simply exits)."""
        self._stopped.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    def refuses(self, payload: dict) -> bool:
        """True if this user token was minted before its user's access was last withdrawn."""
        row = self._versions.get(str(payload.get("user_id")))
        return row is not None and payload.get(CLAIM, 0) < row.access_version


_registry: AccessWithdrawals | None = None
_registry_lock = threading.Lock()


def registry() -> AccessWithdrawals:
    """Return the process's map, made on first use from ``ERP["ACCESS_WITHDRAWALS_FETCH"]``."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                erp = settings.ERP
                _registry = AccessWithdrawals(
                    import_string(erp["ACCESS_WITHDRAWALS_FETCH"]), poll_seconds=erp["ACCESS_WITHDRAWALS_POLL_SECONDS"]
                )
    return _registry


def install(withdrawals: AccessWithdrawals | None) -> None:
    """Use ``withdrawals`` as the process's map (tests; None: made again from the settings)."""
    global _registry
    with _registry_lock:
        if _registry is not None and _registry is not withdrawals:
            _registry.stop()
        _registry = withdrawals


def token_withdrawn(payload: dict) -> bool:
    """True if a user token's access was withdrawn since it was minted; a 503 if that cannot be known yet."""
    from .exceptions import UpstreamUnavailable  # not at the top: it loads DRF, which loads this module

    if payload.get("type") != "user":
        return False
    withdrawals = registry()
    if not withdrawals.synced(FIRST_SYNC_WAIT):
        raise UpstreamUnavailable("Withdrawn access cannot be checked yet; try again shortly.")
    return withdrawals.refuses(payload)


def check_access_withdrawals() -> None:
    """Readiness: not ready until the withdrawals have been fetched once since the process started."""
    if not registry().synced(0.5):
        raise RuntimeError("access withdrawals not fetched yet")
