"""Reads of the accounts domain."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from .models import ROLE_CHOICES, User


class UserFilter(django_filters.FilterSet):
    """``search`` (part of the email), ``role``, ``is_active`` and ``ordering`` of ``GET /users``."""

    search = django_filters.CharFilter(field_name="email", lookup_expr="icontains", label="Part of the email.")
    role = django_filters.ChoiceFilter(choices=ROLE_CHOICES)
    is_active = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(fields=("created_at", "email"))

    class Meta:
        model = User
        fields = ["search", "role", "is_active"]


def user_list() -> QuerySet[User]:
    """Return every user, newest first (the API filters and paginates this)."""
    return User.objects.order_by("-created_at", "id")


def user_get(*, user_id) -> User | None:
    return User.objects.filter(pk=user_id).first()
