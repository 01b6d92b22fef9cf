"""Reads of sales orders for the API and the admin."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import SalesOrder


def sales_order_list() -> QuerySet[SalesOrder]:
    """Return the orders newest first, lines prefetched: two queries for any page (the list filters narrow them)."""
    return SalesOrder.objects.order_by("-created_at", "-id").prefetch_related("lines")


def sales_order_list_stuck_pending(*, older_than: dt.timedelta | None = None) -> QuerySet[SalesOrder]:
    """Return the orders still waiting for inventory's answer (``stock_status`` pending) since before ``older_than``.

    Oldest confirmation first. inventory answers in well under a second while its consumer
    runs, so an order still pending after ``ERP["PENDING_STUCK_AFTER"]`` (the default,
    5 minutes) waits on an event that is late or dead-lettered: what ``/metrics``, the
    admin's filter and an operator look at (docs/operations.md).
    """
    age = older_than if older_than is not None else dt.timedelta(seconds=settings.ERP["PENDING_STUCK_AFTER"])
    return SalesOrder.objects.filter(
        stock_status=SalesOrder.StockStatus.PENDING, confirmed_at__lt=timezone.now() - age
    ).order_by("confirmed_at", "id")
