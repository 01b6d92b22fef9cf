"""Query filters of the purchase order list, for the global filter backends (common.filters).

The FilterSet is also the list's documentation: drf-spectacular reads each filter's type,
choices and ``help_text`` into the OpenAPI parameters. ``?search=`` and ``?ordering=`` are
the backends' (the view's ``search_fields``, :data:`ORDERING_FIELDS`); search matches the
vendor's name and the lines' SKUs (DRF queries the lines with an ``EXISTS``, so an order
with two matching lines is listed once).
"""

from __future__ import annotations

import django_filters

from common.filters import datetime_range

from .models import PurchaseOrder, VendorItem

ORDERING_FIELDS = ("created_at", "updated_at", "total_amount", "status")
SEARCH_FIELDS = ("vendor_name", "lines__sku")


class PurchaseOrderFilter(django_filters.FilterSet):
    created_after, created_before = datetime_range("created_at", help_text="ISO 8601, inclusive.")
    received_after, received_before = datetime_range("received_at", help_text="ISO 8601, inclusive.")
    stock_refused = django_filters.BooleanFilter(
        field_name="stock_refused_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: the orders with a receipt inventory refused to stock (for an operator to settle).",
    )

    class Meta:
        model = PurchaseOrder
        fields = ("status", "vendor_id", "closed_short", "origin")


VENDOR_ITEM_ORDERING_FIELDS = ("created_at", "updated_at", "sku", "vendor_name", "unit_cost")
VENDOR_ITEM_SEARCH_FIELDS = ("sku", "vendor_sku", "vendor_name")


class VendorItemFilter(django_filters.FilterSet):
    class Meta:
        model = VendorItem
        fields = ("vendor_id", "item_id", "preferred")
