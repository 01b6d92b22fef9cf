"""Reads of sales orders for the API, the admin and the management commands."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from common.summaries import per_day

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


# How many of the orders stuck pending the summary lists, oldest first.
SUMMARY_ROWS = 10


def sales_order_summary() -> dict:
    """Return what the back office's home shows of sales: orders stuck pending, orders confirmed per day.

    Three queries whatever the number of orders: the stuck ones counted and the oldest few
    read (the partial index of pending orders by confirmation), and the last 30 days' confirmations
    grouped by UTC day (the index on ``confirmed_at``). A confirmed order counts on the day it was
    confirmed, whatever became of it since.
    """
    stuck = sales_order_list_stuck_pending()
    return {
        "stuck_pending": {
            "count": stuck.count(),
            "older_than_seconds": settings.ERP["PENDING_STUCK_AFTER"],
            "oldest": list(stuck.values("id", "customer_name", "confirmed_at", "total_amount")[:SUMMARY_ROWS]),
        },
        "confirmed_per_day": per_day(
            SalesOrder.objects.all(),
            field="confirmed_at",
            aggregates={"orders": Count("pk"), "amount": Sum("total_amount")},
            empty={"orders": 0, "amount": Decimal("0")},
        ),
    }
