"""The events purchase_svc publishes, written to the outbox inside the change's transaction."""

from __future__ import annotations

from common.events import publish_event, registry
from common.orders.lines import lines_event_data

from .models import PurchaseOrder


def purchase_order_received_publish(*, order: PurchaseOrder) -> None:
    publish_event(
        registry.PURCHASE_ORDER_RECEIVED,
        aggregate_id=str(order.id),
        data={
            "order_id": order.id,
            "vendor_id": order.vendor_id,
            "total_amount": order.total_amount,
            "items": lines_event_data(order.lines.all()),
        },
    )


def purchase_order_paid_publish(*, order: PurchaseOrder) -> None:
    publish_event(
        registry.PURCHASE_ORDER_PAID,
        aggregate_id=str(order.id),
        data={"order_id": order.id, "total_amount": order.total_amount},
    )


def purchase_order_cancelled_publish(*, order: PurchaseOrder) -> None:
    publish_event(registry.PURCHASE_ORDER_CANCELLED, aggregate_id=str(order.id), data={"order_id": order.id})
