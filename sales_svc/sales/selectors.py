"""Reads of sales orders for the API, the admin and the management commands."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from .models import SalesOrder, SalesOrderLine


def sales_order_list() -> QuerySet[SalesOrder]:
    """Return the orders newest first, lines prefetched: two queries for any page (the list filters narrow them)."""
    return SalesOrder.objects.order_by("-created_at", "-id").prefetch_related("lines")


def sales_order_stock_export() -> list[dict]:
    """Return every confirmed order's stock status and, per item, ordered, issued and backordered (JSON-ready)."""
    orders: dict[uuid.UUID, dict] = {}
    rows = (
        SalesOrderLine.objects.filter(order__stock_status__isnull=False)
        .values("order_id", "order__status", "order__stock_status", "item_id")
        .annotate(ordered=Sum("quantity"), issued=Sum("quantity_issued"), backordered=Sum("quantity_backordered"))
        .order_by("order_id", "item_id")
    )
    for row in rows:
        order = orders.setdefault(
            row["order_id"],
            {
                "order_id": str(row["order_id"]),
                "status": row["order__status"],
                "stock_status": row["order__stock_status"],
                "items": [],
            },
        )
        order["items"].append(
            {
                "item_id": str(row["item_id"]),
                "ordered": row["ordered"],
                "issued": row["issued"],
                "backordered": row["backordered"],
            }
        )
    return list(orders.values())


def sales_order_stock_discrepancies() -> list[str]:
    """Return every order whose lines' figures do not follow from its stock status, one sentence each.

    ``pending`` and ``short``: nothing issued or waiting; ``issued``: every line in full;
    ``backordered``: every line issued or waiting in full, some of it waiting; ``returned``:
    nothing waiting. (A line never holds more than its quantity: the database refuses it.)
    """
    problems = []
    lines = SalesOrderLine.objects.filter(order__stock_status__isnull=False).values_list(
        "order_id", "order__stock_status", "position", "quantity", "quantity_issued", "quantity_backordered"
    )
    waiting: dict[uuid.UUID, int] = {}
    for order_id, stock_status, position, quantity, issued, backordered in lines.order_by("order_id", "position"):
        expected = _line_expectation(stock_status, quantity, issued, backordered)
        if expected:
            problems.append(f"order {order_id} ({stock_status}) line {position}: {expected}")
        if stock_status == SalesOrder.StockStatus.BACKORDERED:
            waiting[order_id] = waiting.get(order_id, 0) + backordered
    problems += [f"order {order_id} (backordered): no line waits" for order_id, total in waiting.items() if not total]
    return problems


def _line_expectation(stock_status: str, quantity: int, issued: int, backordered: int) -> str:
    StockStatus = SalesOrder.StockStatus
    figures = f"{issued} issued and {backordered} backordered of {quantity}"
    if stock_status in (StockStatus.PENDING, StockStatus.SHORT) and (issued or backordered):
        return f"{figures}, expected none"
    if stock_status == StockStatus.ISSUED and (issued, backordered) != (quantity, 0):
        return f"{figures}, expected all issued"
    if stock_status == StockStatus.BACKORDERED and issued + backordered != quantity:
        return f"{figures}, expected all issued or backordered"
    if stock_status == StockStatus.RETURNED and backordered:
        return f"{figures}, expected nothing still backordered"
    return ""


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
