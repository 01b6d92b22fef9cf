"""Query filters of the purchase order list: the shared ones plus the reception range."""

from __future__ import annotations

from common.filters import datetime_range
from common.orders.filters import OrderFilter

from .models import PurchaseOrder


class PurchaseOrderFilter(OrderFilter):
    received_after, received_before = datetime_range("received_at")

    class Meta:
        model = PurchaseOrder
        fields = ("status", "vendor_id")
