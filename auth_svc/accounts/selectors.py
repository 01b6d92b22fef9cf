"""Reads of the accounts domain."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from common.withdrawals import Withdrawal, keep_seconds

from .models import User


def user_list() -> QuerySet[User]:
    """Return every user, newest first (the API filters and paginates this)."""
    return User.objects.order_by("-created_at", "id")


def user_get(*, user_id) -> User | None:
    return User.objects.filter(pk=user_id).first()


def access_withdrawals_recent() -> list[Withdrawal]:
    """Return the users whose access was withdrawn within the last access token lifetime (and margin).

    The whole window every time (common.withdrawals): a withdrawal older than that refuses only
    tokens that have expired anyway.
    """
    since = timezone.now() - timedelta(seconds=keep_seconds())
    users = User.objects.filter(access_withdrawn_at__gte=since).order_by("access_withdrawn_at", "id")
    return [
        Withdrawal(str(user_id), version, at.timestamp())
        for user_id, version, at in users.values_list("id", "access_version", "access_withdrawn_at")
    ]
