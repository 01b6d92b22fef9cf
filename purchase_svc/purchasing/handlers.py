"""What purchase_svc consumes: its vendors' names, inventory's refusal of a receipt, and the low-stock events
that raise replenishment drafts.

Each handler reads the event and calls one service; the consumer runs it in the
transaction that records the event in the inbox, so each applies once (and the
replenishment recomputes from its rows, so even a duplicate under another id orders nothing twice).
"""

from __future__ import annotations

import logging

from common.events import Event, registry

from .replenishment import StockFigures, replenishment_apply
from .services import purchase_order_vendor_rename, purchase_receipt_stock_refused
from .vendor_items import vendor_item_vendor_forget, vendor_item_vendor_rename

logger = logging.getLogger(__name__)


def handle_vendor_changed(event: Event) -> None:
    """Created, updated or deleted: the name the event carries is the newest known (a deletion keeps the orders)."""
    purchase_order_vendor_rename(vendor_id=event.data.vendor_id, name=event.data.name, version=event.aggregate_version)
    vendor_item_vendor_rename(vendor_id=event.data.vendor_id, name=event.data.name, version=event.aggregate_version)


def handle_vendor_deleted(event: Event) -> None:
    """As any change, and the vendor's vendor items go: replenishment would raise drafts for a vendor that is gone."""
    handle_vendor_changed(event)
    vendor_item_vendor_forget(vendor_id=event.data.vendor_id)


def handle_stock_low(event: Event) -> None:
    """v2: order what the item needs from its preferred vendor (purchasing.replenishment)."""
    data = event.data
    figures = StockFigures(
        item_id=data.item_id,
        sku=data.sku,
        quantity=data.quantity,
        backordered=data.backordered,
        reorder_level=data.reorder_level,
        max_level=data.max_level,
        version=event.aggregate_version,
    )
    replenishment_apply(figures=figures)


def handle_stock_low_v1(event: Event) -> None:
    """v1 (an inventory_svc before replenishment) names no max level, which means no automatic reordering."""


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
    registry.VENDOR_DELETED: handle_vendor_deleted,
    registry.RECEIPT_REFUSED: handle_receipt_refused,
    registry.STOCK_LOW: handle_stock_low_v1,
    registry.STOCK_LOW_V2: handle_stock_low,
}
