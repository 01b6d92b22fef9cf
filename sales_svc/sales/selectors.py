"""Reads of sales orders for the API and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import SalesOrder


def sales_order_list() -> QuerySet[SalesOrder]:
    """Return the orders newest first, lines prefetched: two queries for any page (the list filters narrow them)."""
    return SalesOrder.objects.order_by("-created_at", "-id").prefetch_related("lines")
