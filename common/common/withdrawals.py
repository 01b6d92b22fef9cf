"""Withdrawn access: refuse a user's access tokens minted before a deactivation, role change or new password.

auth_svc counts, per user, how often their access was withdrawn (``access_version``: bumped in
the same transaction as the deactivation, the role change, the new password or the new email,
under the user's row lock) and stamps the count into every token it mints (claim ``access_version``,
absent = 0). A token whose count is below its user's is refused with the one 401 (contract §3).

A count rather than a not-before time: ``iat`` has whole seconds, so a time could not tell a
token minted just before a change from one minted just after it in the same second; the row
lock orders the mint and the bump exactly.

Every verifying process (each service, the gateway) keeps the withdrawals of the last access
token lifetime in memory, ``user_id -> (access_version, withdrawn_at)``, kept fresh every
``ERP["ACCESS_WITHDRAWALS_POLL_SECONDS"]`` by a background thread from auth_svc's
``GET /internal/access-withdrawals`` (auth_svc itself reads its table). The first poll asks
for the whole window; each answer carries a cursor (``next_since``) and every later poll
asks only for the withdrawals stamped after it, merged into the map. auth_svc sets the cursor
a minute (``CURSOR_OVERLAP_SECONDS``) before the time it read, or before the start of the
oldest transaction still writing if earlier, so a withdrawal stamped before a poll but committed
after it, however long after, is in the next answer. Older entries no longer
matter (every token they refuse has expired) and are dropped, which bounds the map.

- **Start**: until the first fetch has succeeded the process knows nothing, so it refuses to
  judge: a user token waits for that fetch (at most ``FIRST_SYNC_WAIT``), then is a 503; and
  ``/health/ready`` says not ready (:func:`check_access_withdrawals`). It serves from the
  first poll that reaches auth_svc on, without a restart.
- **auth_svc unreachable later**: the map is only as good as its last successful fetch. A
  withdrawal made since is unknown, and any token may be the one it withdrew (a token minted
  after the last fetch as much as one minted before), so no subset of tokens can be served
  safely. While the last success is less than ``ERP["ACCESS_WITHDRAWALS_MAX_AGE_SECONDS"]``
  (5 s, the promise) old the map judges as usual; past it the process refuses to judge: a user
  token is a 503 at once and ``/health/ready`` says not ready, naming the age. Service tokens
  are not concerned. Failed polls are retried with a capped, jittered exponential backoff
  (:meth:`AccessWithdrawals.next_poll_in`), logged at WARNING at most once a minute, and
  the age is the gauge ``erp_access_withdrawals_age_seconds`` (the oldest of the workers).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from prometheus_client import Gauge

logger = logging.getLogger(__name__)

CLAIM = "access_version"
# auth_svc's column is a PositiveIntegerField: no count it keeps is larger.
MAX_VERSION = 2**31 - 1
PATH = "/internal/access-withdrawals"
# How long a user request of a process that never synced waits for the first fetch.
FIRST_SYNC_WAIT = 3.0
# Hosts' clocks differ a little: entries are kept this much longer than the token lifetime.
CLOCK_MARGIN_SECONDS = 60
# auth_svc's cursor lies this far before the earlier of the time it read and the start of the
# oldest transaction still writing (a withdrawal is stamped inside its transaction, before it
# commits): auth_svc's hosts' clocks, which stamp, and the database's differ a little.
CURSOR_OVERLAP_SECONDS = 60
# While polls fail, one WARNING per this many seconds (the age gauge says the rest).
WARNING_EVERY_SECONDS = 60.0
# How often the polling thread refreshes the age gauge while it waits.
GAUGE_EVERY_SECONDS = 1.0

AGE = Gauge(
    "erp_access_withdrawals_age_seconds",
    "seconds since the withdrawn access was last fetched from auth_svc (the oldest of the live workers)",
    multiprocess_mode="livemax",
)


@dataclass(frozen=True)
class Withdrawal:
    user_id: str
    access_version: int
    withdrawn_at: float  # epoch seconds, auth_svc's clock


@dataclass(frozen=True)
class Window:
    """One answer: the withdrawals stamped after ``since`` (all of the window without one), and the next cursor."""

    withdrawals: list[Withdrawal]
    next_since: float | None  # None: the next poll asks for the whole window again


# Called as ``fetch(since=cursor)``: the withdrawals stamped from ``since`` on, or the window if None.
Fetch = Callable[..., Window]


def keep_seconds() -> float:
    """How long a withdrawal matters: the access token lifetime, plus the clocks' margin."""
    return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + CLOCK_MARGIN_SECONDS


def fetch_from_auth(*, since: float | None) -> Window:
    """Fetch the withdrawals after ``since`` (the window if None) from auth_svc, with this process's service token."""
    from .http import ServiceClient

    params = {} if since is None else {"since": repr(since)}
    return window_from_answer(ServiceClient(settings.ERP["AUTH_SERVICE_URL"]).get_json(PATH, params=params) or {})


def window_from_answer(data: dict) -> Window:
    """Read the ``data`` of auth_svc's answer; anything unreadable is auth_svc being unavailable."""
    from .exceptions import UpstreamUnavailable

    try:
        rows = [
            Withdrawal(str(row["user_id"]), int(row["access_version"]), float(row["withdrawn_at_epoch"]))
            for row in data["withdrawals"]
        ]
        # An auth_svc of the previous release sends no cursor: every poll is then a full one.
        next_since = data.get("next_since")
        return Window(rows, None if next_since is None else float(next_since))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpstreamUnavailable("auth_svc answered the access withdrawals with something unreadable.") from exc


def _latest(rows: Iterable[Withdrawal], into: dict[str, Withdrawal]) -> dict[str, Withdrawal]:
    """Return ``into`` updated with ``rows``, keeping each user's highest count."""
    for row in rows:
        known = into.get(row.user_id)
        if known is None or row.access_version > known.access_version:
            into[row.user_id] = row
    return into


class AccessWithdrawals:
    """The process's map of withdrawn access, and the thread that keeps it fresh.

    ``clock`` (monotonic seconds) times the map's age and the warnings; ``jitter(low, high)``
    picks each backoff delay. Both are parameters so that tests can drive them.
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        poll_seconds: float,
        max_age_seconds: float,
        backoff_max_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[float, float], float] = random.uniform,
    ):
        if max_age_seconds <= poll_seconds:
            raise ValueError(
                f"access withdrawals: the maximum age ({max_age_seconds:g} s) must exceed the poll interval "
                f"({poll_seconds:g} s), or every wait between two polls would make the map stale"
            )
        self.fetch = fetch
        self.poll_seconds = poll_seconds
        self.max_age_seconds = max_age_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.clock = clock
        self.jitter = jitter
        self._versions: dict[str, Withdrawal] = {}
        self._cursor: float | None = None
        self._made_at = clock()
        # clock() when the last successful fetch started: the answer holds every withdrawal committed before it.
        self._fetched_at: float | None = None
        self._last_warning_at: float | None = None
        self.failures = 0  # failed polls in a row
        self._synced = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self._versions)

    @property
    def failing(self) -> bool:
        return self.failures > 0

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

    def age_seconds(self) -> float:
        """Seconds since the last successful fetch started (since the map was made, if none has)."""
        return self.clock() - (self._made_at if self._fetched_at is None else self._fetched_at)

    def stale(self) -> bool:
        """True once the last success is too old to keep the promise: a withdrawal since may be unknown."""
        return self.age_seconds() >= self.max_age_seconds

    def sync(self) -> bool:
        """Fetch what changed since the last answer (the window, the first time) into the map; False if it failed.

        On failure the map is kept as it is (its entries still age out): it stays good for
        judging until it is ``max_age_seconds`` old, and the next poll asks for the whole window.
        """
        started = self.clock()
        cursor = self._cursor
        try:
            window = self.fetch(since=cursor)
        except Exception as exc:  # whatever auth_svc or the database raised: keep what we know
            # The next poll asks for the whole window: a cursor auth_svc refuses (a 400 from a
            # release that reads it otherwise) would otherwise fail every poll after this one.
            self._cursor = None
            self._failed(exc)
            self._prune()
            return False
        # A full answer replaces the map; a partial one adds to it. One assignment either way:
        # readers see the old map or the new one.
        self._versions = _latest(window.withdrawals, {} if cursor is None else dict(self._versions))
        self._cursor = window.next_since
        self._prune()
        if self.failures:
            logger.warning("access withdrawals refreshed again after %d failed polls", self.failures)
        self.failures = 0
        self._fetched_at = started
        self._synced.set()
        AGE.set(self.age_seconds())
        return True

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        now = self.clock()
        if self._last_warning_at is None or now - self._last_warning_at >= WARNING_EVERY_SECONDS:
            self._last_warning_at = now
            logger.warning(
                "access withdrawals not refreshed (%s): %d failed polls in a row, last fetched %s",
                type(exc).__name__,
                self.failures,
                "never" if self._fetched_at is None else f"{now - self._fetched_at:.0f} s ago",
            )

    def next_poll_in(self) -> float:
        """Return the wait before the next poll: the rest of the poll interval, or a backoff after failed ones.

        After a success the next poll starts ``poll_seconds`` after that one started (at once if
        it took longer): the map's age is timed from a poll's start, so waiting the whole interval
        after a slow answer would add its time twice, and a 1.5 s answer would leave the map
        5 s old before the next one lands. Polls start every ``poll_seconds`` instead, and the
        map goes stale only once an answer takes longer than half the bound (2.5 s).

        After ``failures`` failed polls in a row, the poll interval doubled with each failure
        after the first, up to ``backoff_max_seconds``; the wait is drawn from the upper half of
        that, so that the processes that lost auth_svc together do not come back all at once.
        """
        if not self.failures:
            return max(0.0, self.poll_seconds - self.age_seconds())
        ceiling = min(self.backoff_max_seconds, self.poll_seconds * 2 ** min(self.failures - 1, 32))
        return self.jitter(ceiling / 2, ceiling)

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
            self._rest(self.next_poll_in())

    def _rest(self, seconds: float) -> None:
        """Wait ``seconds`` (or until stopped), refreshing the age gauge meanwhile."""
        deadline = time.monotonic() + seconds
        while not self._stopped.is_set():
            AGE.set(self.age_seconds())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._stopped.wait(min(remaining, GAUGE_EVERY_SECONDS))

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
    """Return the process's map, made on first use from ``ERP["ACCESS_WITHDRAWALS_*"]``."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                erp = settings.ERP
                _registry = AccessWithdrawals(
                    import_string(erp["ACCESS_WITHDRAWALS_FETCH"]),
                    poll_seconds=erp["ACCESS_WITHDRAWALS_POLL_SECONDS"],
                    max_age_seconds=erp["ACCESS_WITHDRAWALS_MAX_AGE_SECONDS"],
                    backoff_max_seconds=erp["ACCESS_WITHDRAWALS_BACKOFF_MAX_SECONDS"],
                )
    return _registry


def install(withdrawals: AccessWithdrawals | None) -> None:
    """Use ``withdrawals`` as the process's map (tests; None: made again from the settings)."""
    global _registry
    with _registry_lock:
        if _registry is not None and _registry is not withdrawals:
            _registry.stop()
        _registry = withdrawals


def judgement_required() -> AccessWithdrawals:
    """Return the process's map if it may judge a user token now; else a 503 (``UpstreamUnavailable``).

    A process that never fetched waits up to ``FIRST_SYNC_WAIT`` for its first fetch; one whose
    last success is too old (:meth:`AccessWithdrawals.stale`) answers at once: waiting would
    hold a request thread for every request of an auth_svc outage.
    """
    from .exceptions import UpstreamUnavailable  # not at the top: it loads DRF, which loads this module

    withdrawals = registry()
    if not withdrawals.synced(FIRST_SYNC_WAIT) or withdrawals.stale():
        raise UpstreamUnavailable("Withdrawn access cannot be checked yet; try again shortly.")
    return withdrawals


def token_withdrawn(payload: dict) -> bool:
    """True if a user token's access was withdrawn since it was minted; a 503 if that cannot be known now."""
    if payload.get("type") != "user":
        return False
    return judgement_required().refuses(payload)


def check_access_withdrawals() -> None:
    """Readiness: not ready before the first fetch, nor once the last success is too old to judge tokens."""
    from .health import NotReady

    withdrawals = registry()
    if not withdrawals.synced(0.5):
        raise NotReady("not fetched from auth_svc since the process started")
    if withdrawals.stale():
        raise NotReady(
            f"last fetched from auth_svc {withdrawals.age_seconds():.0f} s ago "
            f"(user tokens are refused after {withdrawals.max_age_seconds:g} s)"
        )
