"""Declare every event type of CONTRACT §6, once.

Producers and consumers refer to these constants, never to string literals:
``publish_event(registry.CUSTOMER_CREATED, data=..., aggregate_id=...)`` and
``HANDLERS = {registry.SALES_ORDER_CONFIRMED: handle_order_confirmed}``.
A new version of an event is a new constant with the same name and ``version=2``;
both stay registered while consumers migrate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    """One event type: its routing name, schema version, producing service and data fields."""

    name: str
    version: int
    producer: str
    fields: tuple[str, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    def __str__(self) -> str:
        return f"{self.name}@v{self.version}"


_CONTACT_FIELDS = ("name", "email", "phone", "address")

CUSTOMER_CREATED = EventType("contact.customer.created", 1, "contact", ("customer_id", *_CONTACT_FIELDS))
CUSTOMER_UPDATED = EventType("contact.customer.updated", 1, "contact", ("customer_id", *_CONTACT_FIELDS))
CUSTOMER_DELETED = EventType("contact.customer.deleted", 1, "contact", ("customer_id", *_CONTACT_FIELDS))
VENDOR_CREATED = EventType("contact.vendor.created", 1, "contact", ("vendor_id", *_CONTACT_FIELDS))
VENDOR_UPDATED = EventType("contact.vendor.updated", 1, "contact", ("vendor_id", *_CONTACT_FIELDS))
VENDOR_DELETED = EventType("contact.vendor.deleted", 1, "contact", ("vendor_id", *_CONTACT_FIELDS))

# items: [{item_id, quantity, unit_price, subtotal}]
SALES_ORDER_CONFIRMED = EventType(
    "sales.order.confirmed", 1, "sales", ("order_id", "customer_id", "total_amount", "items")
)
SALES_ORDER_PAID = EventType("sales.order.paid", 1, "sales", ("order_id", "total_amount"))
# items: [{item_id, quantity, unit_price, subtotal}]
PURCHASE_ORDER_RECEIVED = EventType(
    "purchase.order.received", 1, "purchase", ("order_id", "vendor_id", "total_amount", "items")
)
PURCHASE_ORDER_PAID = EventType("purchase.order.paid", 1, "purchase", ("order_id", "total_amount"))
# items: [{item_id, quantity, quantity_after}]
STOCK_ISSUED = EventType("inventory.stock.issued", 1, "inventory", ("order_id", "items"))
# items: [{item_id, requested, available}]
STOCK_SHORTAGE = EventType("inventory.stock.shortage", 1, "inventory", ("order_id", "items"))
# Sent only for an order whose stock was issued.
SALES_ORDER_CANCELLED = EventType("sales.order.cancelled", 1, "sales", ("order_id",))
PURCHASE_ORDER_CANCELLED = EventType("purchase.order.cancelled", 1, "purchase", ("order_id",))
# items: [{item_id, quantity, quantity_after}]
STOCK_RETURNED = EventType("inventory.stock.returned", 1, "inventory", ("order_id", "items"))
STOCK_LOW = EventType("inventory.stock.low", 1, "inventory", ("item_id", "sku", "quantity", "reorder_level"))

ALL: tuple[EventType, ...] = (
    CUSTOMER_CREATED,
    CUSTOMER_UPDATED,
    CUSTOMER_DELETED,
    VENDOR_CREATED,
    VENDOR_UPDATED,
    VENDOR_DELETED,
    SALES_ORDER_CONFIRMED,
    SALES_ORDER_PAID,
    PURCHASE_ORDER_RECEIVED,
    PURCHASE_ORDER_PAID,
    STOCK_ISSUED,
    STOCK_SHORTAGE,
    SALES_ORDER_CANCELLED,
    PURCHASE_ORDER_CANCELLED,
    STOCK_RETURNED,
    STOCK_LOW,
)

_BY_KEY: dict[tuple[str, int], EventType] = {event_type.key: event_type for event_type in ALL}
assert len(_BY_KEY) == len(ALL), "an event type and version is declared twice"

# Which consuming service handles which types (CONTRACT §1/§6). The topology binds
# each service's queue to exactly these routing keys.
SUBSCRIPTIONS: dict[str, tuple[EventType, ...]] = {
    "inventory": (SALES_ORDER_CONFIRMED, PURCHASE_ORDER_RECEIVED, SALES_ORDER_CANCELLED),
    "sales": (CUSTOMER_CREATED, CUSTOMER_UPDATED, CUSTOMER_DELETED, STOCK_ISSUED, STOCK_SHORTAGE),
    "purchase": (VENDOR_CREATED, VENDOR_UPDATED, VENDOR_DELETED),
}


def lookup(name: str, version: int) -> EventType | None:
    """Return the registered type for ``name`` and ``version``, or None."""
    return _BY_KEY.get((name, version))
