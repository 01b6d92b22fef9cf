"""The events purchase_svc publishes, written to the outbox inside the change's transaction.

Each carries the order's ``revision`` after the change as ``aggregate_version`` (the
order row is locked and its revision bumped by the change that publishes). A receipt
is ``purchase.order.received`` v2 with the receipt's own lines; payment is
``purchase.order.paid`` v2 with the amount paid. The v1 shapes stay registered for
the messages already on their way (common.events.registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from common.events import publish_event, registry
from common.money import quantize_money

from .models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt


def purchase_order_received_publish(
    *, order: PurchaseOrder, receipt: PurchaseReceipt, filled: Sequence[tuple[PurchaseOrderLine, int]]
) -> None:
    """Publish one receipt: ``filled`` is each order line it filled and by how many units."""
    items = tuple(
        registry.OrderLine(
            item_id=line.item_id,
            quantity=quantity,
            unit_price=line.unit_price,
            subtotal=quantize_money(line.unit_price * quantity),
        )
        for line, quantity in filled
    )
    data = registry.PurchaseReceiptData(
        order_id=order.id,
        vendor_id=order.vendor_id,
        receipt_id=receipt.id,
        status=order.status,
        amount=quantize_money(sum((item.subtotal for item in items), Decimal(0))),
        items=items,
    )
    publish_event(
        registry.PURCHASE_ORDER_RECEIVED_V2, data=data, aggregate_id=order.id, aggregate_version=order.revision
    )


def purchase_order_paid_publish(*, order: PurchaseOrder) -> None:
    data = registry.PurchaseOrderPaidData(
        order_id=order.id, total_amount=order.total_amount, amount_paid=order.received_amount
    )
    publish_event(registry.PURCHASE_ORDER_PAID_V2, data=data, aggregate_id=order.id, aggregate_version=order.revision)


def purchase_order_cancelled_publish(*, order: PurchaseOrder) -> None:
    data = registry.OrderCancelledData(order_id=order.id)
    publish_event(registry.PURCHASE_ORDER_CANCELLED, data=data, aggregate_id=order.id, aggregate_version=order.revision)
