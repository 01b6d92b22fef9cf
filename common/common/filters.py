"""Filter helpers for list endpoints (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet


class StableOrderingFilter(django_filters.OrderingFilter):
    """Order by the requested fields, then by id, so equal values page deterministically.

    An unknown field is a 400 naming ``ordering`` (django-filter's choice validation),
    never silently ignored.
    """

    def filter(self, qs: QuerySet, value):
        ordered = super().filter(qs, value)
        return ordered if ordered is qs else ordered.order_by(*ordered.query.order_by, "-id")
