"""Query filters of the sales order list: the shared ones plus stock status and confirmation range."""

from __future__ import annotations

import django_filters

from common.orders.filters import OrderFilter

from .models import SalesOrder


class SalesOrderFilter(OrderFilter):
    confirmed_after = django_filters.IsoDateTimeFilter(field_name="confirmed_at", lookup_expr="gte")
    confirmed_before = django_filters.IsoDateTimeFilter(field_name="confirmed_at", lookup_expr="lte")

    class Meta:
        model = SalesOrder
        fields = ("status", "stock_status", "customer_id")
