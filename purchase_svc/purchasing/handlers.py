"""What purchase_svc consumes: its vendors' names, and inventory's refusal of a receipt.

Each handler reads the event and calls one service; the consumer runs it in the
transaction that records the event in the inbox, so each applies once.
"""

from __future__ import annotations

import logging

from common.events import Event, registry

from .services import purchase_order_vendor_rename, purchase_receipt_stock_refused

logger = logging.getLogger(__name__)


def handle_vendor_changed(event: Event) -> None:
    """Created, updated or deleted: the name the event carries is the newest known (a deletion keeps the orders)."""
    purchase_order_vendor_rename(vendor_id=event.data.vendor_id, name=event.data.name, version=event.aggregate_version)


def handle_receipt_refused(event: Event) -> None:
    """Inventory stocked nothing of a receipt: show it on the order and the receipt, for an operator."""
    data: registry.ReceiptRefusedData = event.data
    if purchase_receipt_stock_refused(order_id=data.order_id, receipt_id=data.receipt_id):
        items = ", ".join(f"{line.item_id} x {line.quantity}" for line in data.items)
        logger.error(
            "inventory refused receipt %s of order %s: unknown items %s", data.receipt_id, data.order_id, items
        )


HANDLERS = {
    registry.VENDOR_CREATED: handle_vendor_changed,
    registry.VENDOR_UPDATED: handle_vendor_changed,
    registry.VENDOR_DELETED: handle_vendor_changed,
    registry.RECEIPT_REFUSED: handle_receipt_refused,
}
