"""The list filters every order document has: status, party, created range, search, ordering.

A service's FilterSet subclasses :class:`OrderFilter` and adds its own (``stock_status``,
``confirmed_after``...). Search matches words against the party's name and the lines'
SKUs with an ``EXISTS`` subquery, so an order with two matching lines is listed once.
"""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

ORDERING_FIELDS = ("created_at", "updated_at", "total_amount", "status")
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_TERMS = 10


def validate_search_terms(value: str) -> None:
    # Each word is one more pair of conditions: bound the work one request can ask for.
    if len(value.split()) > MAX_SEARCH_TERMS:
        raise ValidationError(f"At most {MAX_SEARCH_TERMS} words.")


class OrderFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", max_length=MAX_SEARCH_LENGTH, validators=[validate_search_terms]
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    # An unknown field is a 400 naming ``ordering``; the selector breaks ties by id.
    ordering = django_filters.OrderingFilter(fields=ORDERING_FIELDS)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        party = queryset.model.PARTY
        lines = queryset.model._meta.get_field("lines").related_model
        for term in value.split():
            sku_matches = lines.objects.filter(order=OuterRef("pk"), sku__icontains=term)
            queryset = queryset.filter(Q(**{f"{party.name_field}__icontains": term}) | Q(Exists(sku_matches)))
        return queryset


def filterset_apply(
    *, queryset: QuerySet, filterset_class: type[django_filters.FilterSet], filters: Mapping[str, str] | None
) -> QuerySet:
    """Return ``queryset`` narrowed by ``filters``; a value the filters cannot read is a 400 naming it."""
    if not filters:
        return queryset
    filterset = filterset_class(data=filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError({field: list(errors) for field, errors in filterset.errors.items()})
    return filterset.qs
