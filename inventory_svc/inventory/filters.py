"""Query filters of the item list (``filterset_class`` of the item viewset).

``?search=`` and ``?ordering=`` are the global backends' (common.filters), configured by the
viewset's ``search_fields`` and ``ordering_fields``; the queryset is annotated with
``quantity`` (:func:`inventory.selectors.item_list`), so both can use the stock on hand.
A value the filters cannot read (a bad date, ``below_reorder_level=maybe``) is a 400
naming the parameter, never ignored.
"""

from __future__ import annotations

import django_filters
from django.db.models import F, Q, QuerySet

from common.filters import datetime_range

from .models import normalize_sku

ORDERING_FIELDS = ("sku", "name", "unit_price", "reorder_level", "quantity", "created_at", "updated_at")
SEARCH_FIELDS = ("sku", "name")


class ItemFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(method="filter_sku", max_length=200, help_text="Exact SKU, case-insensitive.")
    below_reorder_level = django_filters.ChoiceFilter(
        choices=[("true", "at or below it: what to buy next"), ("false", "above it")],
        method="filter_below_reorder_level",
        help_text="The items whose stock is at or below their reorder level, or above it.",
    )
    active = django_filters.ChoiceFilter(
        choices=[("true", "in use"), ("false", "archived")],
        method="filter_active",
        help_text="The items in use, or the archived ones.",
    )
    created_after, created_before = datetime_range("created_at")

    def filter_sku(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Exact, on the normalised value, so the unique index on sku serves it.
        return queryset.filter(sku=normalize_sku(value))

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(active=value == "true")

    def filter_below_reorder_level(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # "At or below" (contract §5): what to buy next.
        at_or_below = Q(quantity__lte=F("reorder_level"))
        return queryset.filter(at_or_below if value == "true" else ~at_or_below)
