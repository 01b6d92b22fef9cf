"""Reads of the accounts domain."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import User


def user_list() -> QuerySet[User]:
    """Return every user, newest first (the API filters and paginates this)."""
    return User.objects.order_by("-created_at", "id")


def user_get(*, user_id) -> User | None:
    return User.objects.filter(pk=user_id).first()
