"""Query filters of the sales order list: the shared ones plus stock status and confirmation range."""

from __future__ import annotations

from common.filters import datetime_range
from common.orders.filters import OrderFilter

from .models import SalesOrder


class SalesOrderFilter(OrderFilter):
    confirmed_after, confirmed_before = datetime_range("confirmed_at")

    class Meta:
        model = SalesOrder
        fields = ("status", "stock_status", "customer_id")
