"""Reads of the accounts domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from common.withdrawals import CURSOR_OVERLAP_SECONDS, Window, Withdrawal, keep_seconds

from .models import User


def user_list() -> QuerySet[User]:
    """Return every user, newest first (the API filters and paginates this)."""
    return User.objects.order_by("-created_at", "id")


def user_get(*, user_id) -> User | None:
    return User.objects.filter(pk=user_id).first()


def access_withdrawals_since(*, since: float | None = None) -> Window:
    """Return the withdrawals stamped after ``since`` (epoch seconds) within the window, and the next cursor.

    Without ``since``, the whole window: the users whose access was withdrawn within the last
    access token lifetime (and margin); a withdrawal older than that refuses only tokens that
    have expired anyway, so a ``since`` before the window is the window. The cursor lies
    ``CURSOR_OVERLAP_SECONDS`` before the time read here, first, so that a withdrawal stamped
    before this read and committed after it is in the next answer (common.withdrawals).
    A ``since`` later than that cursor (one from an auth_svc host whose clock runs ahead, or
    any caller's) is read as the cursor: it would skip withdrawals this answer's cursor keeps.
    ``access_withdrawn_at`` is indexed: a poll reads only the rows it returns.
    """
    now = timezone.now()
    cursor = now - timedelta(seconds=CURSOR_OVERLAP_SECONDS)
    start = now - timedelta(seconds=keep_seconds())
    if since is not None:
        start = max(start, min(datetime.fromtimestamp(since, tz=UTC), cursor))
    users = User.objects.filter(access_withdrawn_at__gte=start).order_by("access_withdrawn_at", "id")
    rows = [
        Withdrawal(str(user_id), version, at.timestamp())
        for user_id, version, at in users.values_list("id", "access_version", "access_withdrawn_at")
    ]
    return Window(rows, cursor.timestamp())
