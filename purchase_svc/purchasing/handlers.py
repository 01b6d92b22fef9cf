"""What purchase_svc consumes: its vendors' names.

Each handler reads the event and calls one service; the consumer runs it in the
transaction that records the event in the inbox, so each applies once.
"""

from __future__ import annotations

from common.events import Event, registry

from .services import purchase_order_vendor_rename


def handle_vendor_changed(event: Event) -> None:
    """Created, updated or deleted: the name the event carries is the newest known (a deletion keeps the orders)."""
    purchase_order_vendor_rename(vendor_id=event.data.vendor_id, name=event.data.name, version=event.aggregate_version)


HANDLERS = {
    registry.VENDOR_CREATED: handle_vendor_changed,
    registry.VENDOR_UPDATED: handle_vendor_changed,
    registry.VENDOR_DELETED: handle_vendor_changed,
}
