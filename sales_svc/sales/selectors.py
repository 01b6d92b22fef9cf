"""Reads of sales orders for the API and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from common.orders.selectors import order_queryset

from .models import SalesOrder


def sales_order_list() -> QuerySet[SalesOrder]:
    """Return the orders newest first, lines prefetched (the list view's filters narrow them)."""
    return order_queryset(SalesOrder)
