"""Reads of the accounts domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from common.withdrawals import CURSOR_OVERLAP_SECONDS, Window, Withdrawal, keep_seconds

from .models import User


def user_list() -> QuerySet[User]:
    """Return every user, newest first (the API filters and paginates this)."""
    return User.objects.order_by("-created_at", "id")


def user_get(*, user_id) -> User | None:
    return User.objects.filter(pk=user_id).first()


# When the oldest open transaction that has written to this database began (PostgreSQL). Only
# writers: a withdrawal's transaction has written (the user row) by the time its rows could
# be missed, and a reader left open (a console, a report) must not hold the cursor back.
OLDEST_WRITE_STARTED = """
    SELECT min(xact_start) FROM pg_stat_activity
    WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
"""


def _oldest_write_started() -> datetime | None:
    """When the oldest transaction still writing began; None if there is none (or the database is not PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None  # SQLite, the local run's: one writer at a time, and no commit waits on another host
    with connection.cursor() as cursor:
        cursor.execute(OLDEST_WRITE_STARTED)
        return cursor.fetchone()[0]


def access_withdrawals_since(*, since: float | None = None) -> Window:
    """Return the withdrawals stamped after ``since`` (epoch seconds) within the window, and the next cursor.

    Without ``since``, the whole window: the users whose access was withdrawn within the last
    access token lifetime (and margin); a withdrawal older than that refuses only tokens that
    have expired anyway, so a ``since`` before the window is the window.

    The next cursor must not pass a withdrawal this answer cannot see yet: one stamped before
    this read and committed after it. Such a transaction is open now, so it began no later
    than the oldest open writer, read first (before the rows: one that commits in between is
    then in both); the cursor lies ``CURSOR_OVERLAP_SECONDS`` (the hosts' clocks) before the
    earlier of that and now. A transaction held open for minutes (a lock wait, a commit waiting
    for a synchronous standby) only makes the answers longer, up to the whole window.
    A ``since`` later than that cursor (one from an auth_svc host whose clock runs ahead, or
    any caller's) is read as the cursor: it would skip withdrawals this answer's cursor keeps.
    ``access_withdrawn_at`` is indexed: a poll reads only the rows it returns.
    """
    now = timezone.now()
    oldest_write = _oldest_write_started()
    cursor = min(now, oldest_write or now) - timedelta(seconds=CURSOR_OVERLAP_SECONDS)
    start = now - timedelta(seconds=keep_seconds())
    if since is not None:
        start = max(start, min(datetime.fromtimestamp(since, tz=UTC), cursor))
    users = User.objects.filter(access_withdrawn_at__gte=start).order_by("access_withdrawn_at", "id")
    rows = [
        Withdrawal(str(user_id), version, at.timestamp())
        for user_id, version, at in users.values_list("id", "access_version", "access_withdrawn_at")
    ]
    return Window(rows, cursor.timestamp())
