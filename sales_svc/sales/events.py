"""The events sales_svc publishes, written to the outbox inside the change's transaction.

Each carries the order's ``revision`` after the change as ``aggregate_version`` (the
order row is locked and its revision bumped by the transition that publishes).
"""

from __future__ import annotations

from common.events import publish_event, registry
from order_documents.lines import lines_event_data

from .models import SalesOrder


def sales_order_confirmed_publish(*, order: SalesOrder) -> None:
    """v2, with ``allow_backorder`` (inventory handles v1 and v2: upgrade it first)."""
    data = registry.SalesOrderConfirmedV2Data(
        order_id=order.id,
        customer_id=order.customer_id,
        total_amount=order.total_amount,
        allow_backorder=order.allow_backorder,
        items=lines_event_data(order.lines.all()),
    )
    publish_event(registry.SALES_ORDER_CONFIRMED_V2, data=data, aggregate_id=order.id, aggregate_version=order.revision)


def sales_order_paid_publish(*, order: SalesOrder) -> None:
    data = registry.OrderPaidData(order_id=order.id, total_amount=order.total_amount)
    publish_event(registry.SALES_ORDER_PAID, data=data, aggregate_id=order.id, aggregate_version=order.revision)


def sales_order_cancelled_publish(*, order: SalesOrder) -> None:
    data = registry.OrderCancelledData(order_id=order.id)
    publish_event(registry.SALES_ORDER_CANCELLED, data=data, aggregate_id=order.id, aggregate_version=order.revision)
