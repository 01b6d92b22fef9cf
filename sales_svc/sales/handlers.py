"""What sales_svc consumes: inventory's answers to its orders, and its customers' names.

Each handler reads the event and calls one service; the consumer runs it in the
transaction that records the event in the inbox, so each applies once.
"""

from __future__ import annotations

from common.events import Event, registry

from .models import SalesOrder
from .services import sales_order_customer_rename, sales_order_stock_status_set


def handle_stock_issued(event: Event) -> None:
    sales_order_stock_status_set(order_id=event.data.order_id, stock_status=SalesOrder.StockStatus.ISSUED)


def handle_stock_shortage(event: Event) -> None:
    sales_order_stock_status_set(order_id=event.data.order_id, stock_status=SalesOrder.StockStatus.SHORT)


def handle_stock_returned(event: Event) -> None:
    sales_order_stock_status_set(order_id=event.data.order_id, stock_status=SalesOrder.StockStatus.RETURNED)


def handle_customer_changed(event: Event) -> None:
    """Created, updated or deleted: the name the event carries is the newest known (a deletion keeps the orders)."""
    sales_order_customer_rename(
        customer_id=event.data.customer_id, name=event.data.name, version=event.aggregate_version
    )


HANDLERS = {
    registry.STOCK_ISSUED: handle_stock_issued,
    registry.STOCK_SHORTAGE: handle_stock_shortage,
    registry.STOCK_RETURNED: handle_stock_returned,
    registry.CUSTOMER_CREATED: handle_customer_changed,
    registry.CUSTOMER_UPDATED: handle_customer_changed,
    registry.CUSTOMER_DELETED: handle_customer_changed,
}
