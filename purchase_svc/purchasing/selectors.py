"""Reads of purchase orders for the API and the admin."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import QuerySet

from common.orders.selectors import order_list

from .filters import PurchaseOrderFilter
from .models import PurchaseOrder


def purchase_order_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[PurchaseOrder]:
    """Return purchase orders newest first (or by ``ordering``), lines prefetched, narrowed by ``filters``."""
    return order_list(model=PurchaseOrder, filterset_class=PurchaseOrderFilter, filters=filters)
