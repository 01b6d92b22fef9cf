"""Reads of the accounts domain."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from .models import ROLE_CHOICES, User


class UserFilter(django_filters.FilterSet):
    """``role`` and ``is_active`` of ``GET /users`` (``search`` and ``ordering``: the view's fields)."""

    role = django_filters.ChoiceFilter(choices=ROLE_CHOICES)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "is_active"]


def user_list() -> QuerySet[User]:
    """Return every user, newest first (the API filters and paginates this)."""
    return User.objects.order_by("-created_at", "id")


def user_get(*, user_id) -> User | None:
    return User.objects.filter(pk=user_id).first()
