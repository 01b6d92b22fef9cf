"""The list filters every order document has: status, party, created range, search, ordering.

A service's FilterSet subclasses :class:`OrderFilter` and adds its own (``stock_status``,
``confirmed_after``...). Search matches words against the party's name and the lines'
SKUs with an ``EXISTS`` subquery, so an order with two matching lines is listed once.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from common.filters import MAX_SEARCH_LENGTH, StableOrderingFilter, validate_search_terms

ORDERING_FIELDS = ("created_at", "updated_at", "total_amount", "status")


class OrderFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", max_length=MAX_SEARCH_LENGTH, validators=[validate_search_terms]
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    ordering = StableOrderingFilter(fields=ORDERING_FIELDS)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        party = queryset.model.PARTY
        lines = queryset.model._meta.get_field("lines").related_model
        for term in value.split():
            sku_matches = lines.objects.filter(order=OuterRef("pk"), sku__icontains=term)
            queryset = queryset.filter(Q(**{f"{party.name_field}__icontains": term}) | Q(Exists(sku_matches)))
        return queryset
