"""Reads of sales orders for the API and the admin."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import QuerySet

from common.orders.selectors import order_list

from .filters import SalesOrderFilter
from .models import SalesOrder


def sales_order_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[SalesOrder]:
    """Return sales orders newest first (or by ``ordering``), lines prefetched, narrowed by ``filters``."""
    return order_list(model=SalesOrder, filterset_class=SalesOrderFilter, filters=filters)
