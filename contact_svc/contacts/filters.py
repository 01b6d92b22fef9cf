"""Query filters of the contact lists (``filterset_class`` of the contact viewsets).

``?search=`` and ``?ordering=`` are the global backends' (common.filters), configured by the
viewset's ``search_fields`` and ``ordering_fields``. A value the filters cannot read (a bad
date, an unknown ordering field) is a 400 naming the parameter, never ignored.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.db.models.functions import Lower

from common.filters import datetime_range

ORDERING_FIELDS = ("name", "email", "created_at", "updated_at")
SEARCH_FIELDS = ("name", "email")


class ContactFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(method="filter_email", help_text="Exact email, case-insensitive.")
    active = django_filters.ChoiceFilter(
        choices=[("true", "in use"), ("false", "archived")],
        method="filter_active",
        help_text="The contacts in use, or the archived ones.",
    )
    created_after, created_before = datetime_range("created_at")

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(active=value == "true")

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Compare lower(email) so PostgreSQL can use the unique lower(email) index.
        return queryset.alias(email_lower=Lower("email")).filter(email_lower=value.strip().lower())
