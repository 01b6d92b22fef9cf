"""Query filters of the purchase order list: the shared ones plus the reception range."""

from __future__ import annotations

import django_filters

from common.orders.filters import OrderFilter

from .models import PurchaseOrder


class PurchaseOrderFilter(OrderFilter):
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lte")

    class Meta:
        model = PurchaseOrder
        fields = ("status", "vendor_id")
