"""Filter helpers for list endpoints (django-filter)."""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

MAX_SEARCH_LENGTH = 200
MAX_SEARCH_TERMS = 10


def validate_search_terms(value: str) -> None:
    """Refuse a search of more than ``MAX_SEARCH_TERMS`` words: each word costs more conditions."""
    if len(value.split()) > MAX_SEARCH_TERMS:
        raise ValidationError(f"At most {MAX_SEARCH_TERMS} words.")


def filterset_apply(
    *, queryset: QuerySet, filterset_class: type[django_filters.FilterSet], filters: Mapping[str, str] | None
) -> QuerySet:
    """Return ``queryset`` narrowed by ``filters`` (query parameters).

    Raises ``ValidationError`` naming the parameter when a value cannot be read (a bad
    date, an unknown ordering field): a 400, never silently ignored.
    """
    if not filters:
        return queryset
    filterset = filterset_class(data=filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError({field: list(errors) for field, errors in filterset.errors.items()})
    return filterset.qs


class StableOrderingFilter(django_filters.OrderingFilter):
    """Order by the requested fields, then by id, so equal values page deterministically.

    An unknown field is a 400 naming ``ordering`` (django-filter's choice validation),
    never silently ignored.
    """

    def filter(self, qs: QuerySet, value):
        ordered = super().filter(qs, value)
        return ordered if ordered is qs else ordered.order_by(*ordered.query.order_by, "-id")
