"""Query filters of the item list: search, field filters and ordering as one FilterSet.

Used by :func:`inventory.selectors.item_list`, on a queryset annotated with
``quantity``. A value the filters cannot read (a bad date, an unknown ordering
field, ``below_reorder_level=maybe``) is an error naming the parameter, never ignored.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet

from common.filters import StableOrderingFilter

from .models import normalize_sku

ORDERING_FIELDS = ("sku", "name", "unit_price", "reorder_level", "quantity", "created_at", "updated_at")
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_TERMS = 10


def validate_search_terms(value: str) -> None:
    # Each word is one more pair of ILIKEs: bound the work one request can ask for.
    if len(value.split()) > MAX_SEARCH_TERMS:
        raise ValidationError(f"At most {MAX_SEARCH_TERMS} words.")


class ItemFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", max_length=MAX_SEARCH_LENGTH, validators=[validate_search_terms]
    )
    sku = django_filters.CharFilter(method="filter_sku", max_length=MAX_SEARCH_LENGTH)
    below_reorder_level = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        method="filter_below_reorder_level",
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    ordering = StableOrderingFilter(fields=ORDERING_FIELDS)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Every word must match the SKU or the name, as DRF's SearchFilter does.
        for term in value.split():
            queryset = queryset.filter(Q(sku__icontains=term) | Q(name__icontains=term))
        return queryset

    def filter_sku(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Exact, on the normalised value, so the unique index on sku serves it.
        return queryset.filter(sku=normalize_sku(value))

    def filter_below_reorder_level(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # "At or below" (CONTRACT §5): what to buy next.
        at_or_below = Q(quantity__lte=F("reorder_level"))
        return queryset.filter(at_or_below if value else ~at_or_below)
