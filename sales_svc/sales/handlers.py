"""What sales_svc consumes: inventory's answers to its orders, and its customers' names.

Each handler reads the event and calls one service; the consumer runs it in the
transaction that records the event in the inbox, so each applies once.
"""

from __future__ import annotations

from common.events import Event, registry

from .models import SalesOrder
from .services import sales_order_customer_rename, sales_order_stock_progress, sales_order_stock_status_set


def handle_stock_issued(event: Event) -> None:
    sales_order_stock_status_set(
        order_id=event.data.order_id, stock_status=SalesOrder.StockStatus.ISSUED, version=event.aggregate_version
    )


def handle_stock_shortage(event: Event) -> None:
    sales_order_stock_status_set(
        order_id=event.data.order_id, stock_status=SalesOrder.StockStatus.SHORT, issued={}, version=1
    )


def handle_stock_returned(event: Event) -> None:
    """What was given back is what had been issued; what still waited was dropped."""
    data: registry.StockMovedData = event.data
    sales_order_stock_status_set(
        order_id=data.order_id,
        stock_status=SalesOrder.StockStatus.RETURNED,
        issued={line.item_id: line.quantity for line in data.items},
        version=event.aggregate_version,
    )


def handle_stock_progress(event: Event) -> None:
    """Backordered, or filled: the order's cumulative figures, applied only if newer."""
    data: registry.StockProgressData = event.data
    sales_order_stock_progress(
        order_id=data.order_id,
        version=event.aggregate_version,
        issued={line.item_id: line.quantity_issued for line in data.items},
        backordered={line.item_id: line.quantity_backordered for line in data.items},
    )


def handle_customer_changed(event: Event) -> None:
    """Created, updated or deleted: the name the event carries is the newest known (a deletion keeps the orders)."""
    sales_order_customer_rename(
        customer_id=event.data.customer_id, name=event.data.name, version=event.aggregate_version
    )


HANDLERS = {
    registry.STOCK_ISSUED: handle_stock_issued,
    registry.STOCK_SHORTAGE: handle_stock_shortage,
    registry.STOCK_RETURNED: handle_stock_returned,
    registry.STOCK_BACKORDERED: handle_stock_progress,
    registry.STOCK_FILLED: handle_stock_progress,
    registry.CUSTOMER_CREATED: handle_customer_changed,
    registry.CUSTOMER_UPDATED: handle_customer_changed,
    registry.CUSTOMER_DELETED: handle_customer_changed,
}
