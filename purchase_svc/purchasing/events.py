"""The events purchase_svc publishes, written to the outbox inside the change's transaction.

Each carries the order's ``revision`` after the change as ``aggregate_version`` (the
order row is locked and its revision bumped by the transition that publishes).
"""

from __future__ import annotations

from common.events import publish_event, registry
from order_documents.lines import lines_event_data

from .models import PurchaseOrder


def purchase_order_received_publish(*, order: PurchaseOrder) -> None:
    data = registry.PurchaseOrderReceivedData(
        order_id=order.id,
        vendor_id=order.vendor_id,
        total_amount=order.total_amount,
        items=lines_event_data(order.lines.all()),
    )
    publish_event(registry.PURCHASE_ORDER_RECEIVED, data=data, aggregate_id=order.id, aggregate_version=order.revision)


def purchase_order_paid_publish(*, order: PurchaseOrder) -> None:
    data = registry.OrderPaidData(order_id=order.id, total_amount=order.total_amount)
    publish_event(registry.PURCHASE_ORDER_PAID, data=data, aggregate_id=order.id, aggregate_version=order.revision)


def purchase_order_cancelled_publish(*, order: PurchaseOrder) -> None:
    data = registry.OrderCancelledData(order_id=order.id)
    publish_event(registry.PURCHASE_ORDER_CANCELLED, data=data, aggregate_id=order.id, aggregate_version=order.revision)
