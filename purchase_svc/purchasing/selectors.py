"""Reads of purchase orders for the API and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from common.orders.selectors import order_queryset

from .models import PurchaseOrder


def purchase_order_list() -> QuerySet[PurchaseOrder]:
    """Return the orders newest first, lines prefetched (the list view's filters narrow them)."""
    return order_queryset(PurchaseOrder)
