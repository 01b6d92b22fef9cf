"""The events sales_svc publishes, written to the outbox inside the change's transaction."""

from __future__ import annotations

from common.events import publish_event, registry
from common.orders.lines import lines_event_data

from .models import SalesOrder


def sales_order_confirmed_publish(*, order: SalesOrder) -> None:
    publish_event(
        registry.SALES_ORDER_CONFIRMED,
        aggregate_id=str(order.id),
        data={
            "order_id": order.id,
            "customer_id": order.customer_id,
            "total_amount": order.total_amount,
            "items": lines_event_data(order.lines.all()),
        },
    )


def sales_order_paid_publish(*, order: SalesOrder) -> None:
    publish_event(
        registry.SALES_ORDER_PAID,
        aggregate_id=str(order.id),
        data={"order_id": order.id, "total_amount": order.total_amount},
    )


def sales_order_cancelled_publish(*, order: SalesOrder) -> None:
    publish_event(registry.SALES_ORDER_CANCELLED, aggregate_id=str(order.id), data={"order_id": order.id})
