"""Declare every event type of contract §6 and the shape of its ``data``, once.

Producers and consumers refer to these constants, never to string literals::

    publish_event(
        registry.SALES_ORDER_CONFIRMED,
        data=registry.SalesOrderConfirmedData(order_id=..., customer_id=..., total_amount=..., items=(
            registry.OrderLine(item_id=..., quantity=2, unit_price=Decimal("5.00"), subtotal=Decimal("10.00")),
        )),
        aggregate_id=order.id,
        aggregate_version=order.version,
    )

    HANDLERS = {registry.SALES_ORDER_CONFIRMED: handle_order_confirmed}

    def handle_order_confirmed(event: Event) -> None:
        data: registry.SalesOrderConfirmedData = event.data   # typed, money as Decimal("10.00")

Each ``data`` is a frozen dataclass (field types: see :mod:`common.events.schema`;
every ``Decimal`` is money). A new version of an event is a new constant with the
same name and ``version=2`` (and, if its shape changed, a new data class); both stay
registered while consumers migrate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import schema

# -- the shapes of ``data`` ---------------------------------------------------


@dataclass(frozen=True)
class CustomerData:
    customer_id: uuid.UUID
    name: str
    email: str
    phone: str
    address: str


@dataclass(frozen=True)
class VendorData:
    vendor_id: uuid.UUID
    name: str
    email: str
    phone: str
    address: str


@dataclass(frozen=True)
class OrderLine:
    """A line of a confirmed sales order or a received purchase order."""

    item_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    subtotal: Decimal


@dataclass(frozen=True)
class SalesOrderConfirmedData:
    order_id: uuid.UUID
    customer_id: uuid.UUID
    total_amount: Decimal
    items: tuple[OrderLine, ...]


@dataclass(frozen=True)
class SalesOrderConfirmedV2Data:
    """A confirmed sales order (v2): v1's fields and whether what is short may wait as backorders."""

    order_id: uuid.UUID
    customer_id: uuid.UUID
    total_amount: Decimal
    allow_backorder: bool
    items: tuple[OrderLine, ...]


@dataclass(frozen=True)
class PurchaseOrderReceivedData:
    order_id: uuid.UUID
    vendor_id: uuid.UUID
    total_amount: Decimal
    items: tuple[OrderLine, ...]


@dataclass(frozen=True)
class PurchaseReceiptData:
    """One receipt of a purchase order (v2): what arrived in it, a line per order line it filled.

    ``amount`` is Σ quantity x unit_price of the receipt's lines; ``status`` the order's
    after it (``PartiallyReceived`` or ``Received``).
    """

    order_id: uuid.UUID
    vendor_id: uuid.UUID
    receipt_id: uuid.UUID
    status: str
    amount: Decimal
    items: tuple[OrderLine, ...]


@dataclass(frozen=True)
class OrderPaidData:
    order_id: uuid.UUID
    total_amount: Decimal


@dataclass(frozen=True)
class PurchaseOrderPaidData:
    """A purchase order paid (v2): ``amount_paid`` is what was received (Σ received x unit price)."""

    order_id: uuid.UUID
    total_amount: Decimal
    amount_paid: Decimal


@dataclass(frozen=True)
class OrderCancelledData:
    order_id: uuid.UUID


@dataclass(frozen=True)
class StockMovementLine:
    """A line inventory moved for an order: ``quantity`` moved, ``quantity_after`` on hand."""

    item_id: uuid.UUID
    quantity: int
    quantity_after: int


@dataclass(frozen=True)
class StockMovedData:
    """Stock issued for, or returned from, an order."""

    order_id: uuid.UUID
    items: tuple[StockMovementLine, ...]


@dataclass(frozen=True)
class ShortLine:
    item_id: uuid.UUID
    requested: int
    available: int


@dataclass(frozen=True)
class StockShortageData:
    order_id: uuid.UUID
    items: tuple[ShortLine, ...]


@dataclass(frozen=True)
class StockProgressLine:
    """An item of a backorder-allowed order, cumulative: issued so far, and still waiting for stock."""

    item_id: uuid.UUID
    quantity_issued: int
    quantity_backordered: int


@dataclass(frozen=True)
class StockProgressData:
    """Where an order's stock stands, every item of it; each event about the order replaces the last.

    Cumulative figures under a growing ``aggregate_version``, so a consumer applies only a
    newer one: a redelivered or overtaken event changes nothing.
    """

    order_id: uuid.UUID
    items: tuple[StockProgressLine, ...]


@dataclass(frozen=True)
class ReceiptLine:
    item_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class ReceiptRefusedData:
    """A purchase receipt inventory could not stock at all: ``items`` are its lines of items it does not have."""

    order_id: uuid.UUID
    receipt_id: uuid.UUID
    items: tuple[ReceiptLine, ...]


@dataclass(frozen=True)
class StockLowData:
    item_id: uuid.UUID
    sku: str
    quantity: int
    reorder_level: int


@dataclass(frozen=True)
class StockLowV2Data:
    """An item at or below its reorder level (v2): v1's figures and what replenishment computes with.

    ``quantity`` is on hand, ``backordered`` what confirmed orders wait for, ``max_level``
    the level a reorder fills up to (0: no automatic reordering).
    """

    item_id: uuid.UUID
    sku: str
    quantity: int
    backordered: int
    reorder_level: int
    max_level: int


# -- the event types ------------------------------------------------------------


@dataclass(frozen=True)
class EventType:
    """One event type: its routing name, schema version, producing service and data class."""

    name: str
    version: int
    producer: str
    data: type

    def __post_init__(self) -> None:
        schema.check_declaration(self.data)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    @property
    def fields(self) -> tuple[str, ...]:
        return schema.field_names(self.data)

    def to_data(self, value: Any) -> Any:
        """Return ``value`` (a data instance or a mapping) as a checked instance of :attr:`data`.

        Raises :class:`schema.DataMismatch` naming the first field that does not match.
        """
        return schema.to_data(self.data, value)

    def __str__(self) -> str:
        return f"{self.name}@v{self.version}"


CUSTOMER_CREATED = EventType("contact.customer.created", 1, "contact", CustomerData)
CUSTOMER_UPDATED = EventType("contact.customer.updated", 1, "contact", CustomerData)
CUSTOMER_DELETED = EventType("contact.customer.deleted", 1, "contact", CustomerData)
VENDOR_CREATED = EventType("contact.vendor.created", 1, "contact", VendorData)
VENDOR_UPDATED = EventType("contact.vendor.updated", 1, "contact", VendorData)
VENDOR_DELETED = EventType("contact.vendor.deleted", 1, "contact", VendorData)

SALES_ORDER_CONFIRMED = EventType("sales.order.confirmed", 1, "sales", SalesOrderConfirmedData)
# v2: with ``allow_backorder`` (what sales_svc publishes since backorders; v1 is an order that does not allow them).
SALES_ORDER_CONFIRMED_V2 = EventType("sales.order.confirmed", 2, "sales", SalesOrderConfirmedV2Data)
SALES_ORDER_PAID = EventType("sales.order.paid", 1, "sales", OrderPaidData)
# Sent only for an order whose stock was issued.
SALES_ORDER_CANCELLED = EventType("sales.order.cancelled", 1, "sales", OrderCancelledData)
# v1: the whole order at once (the original's; still consumed, as one receipt of the whole order).
PURCHASE_ORDER_RECEIVED = EventType("purchase.order.received", 1, "purchase", PurchaseOrderReceivedData)
# v2: one receipt of an order received in parts (what purchase_svc publishes since).
PURCHASE_ORDER_RECEIVED_V2 = EventType("purchase.order.received", 2, "purchase", PurchaseReceiptData)
PURCHASE_ORDER_PAID = EventType("purchase.order.paid", 1, "purchase", OrderPaidData)
# v2: with the amount paid, which follows what was received (an order closed short pays less than its total).
PURCHASE_ORDER_PAID_V2 = EventType("purchase.order.paid", 2, "purchase", PurchaseOrderPaidData)
PURCHASE_ORDER_CANCELLED = EventType("purchase.order.cancelled", 1, "purchase", OrderCancelledData)
STOCK_ISSUED = EventType("inventory.stock.issued", 1, "inventory", StockMovedData)
STOCK_SHORTAGE = EventType("inventory.stock.shortage", 1, "inventory", StockShortageData)
STOCK_RETURNED = EventType("inventory.stock.returned", 1, "inventory", StockMovedData)
STOCK_LOW = EventType("inventory.stock.low", 1, "inventory", StockLowData)
# v2: with backordered and max_level, what purchase_svc's replenishment needs (what inventory_svc publishes since).
STOCK_LOW_V2 = EventType("inventory.stock.low", 2, "inventory", StockLowV2Data)
# A backorder-allowed order's stock: decided with some of it backordered, then each fill as stock arrives.
STOCK_BACKORDERED = EventType("inventory.stock.backordered", 1, "inventory", StockProgressData)
STOCK_FILLED = EventType("inventory.stock.filled", 1, "inventory", StockProgressData)
RECEIPT_REFUSED = EventType("inventory.receipt.refused", 1, "inventory", ReceiptRefusedData)

ALL: tuple[EventType, ...] = (
    CUSTOMER_CREATED,
    CUSTOMER_UPDATED,
    CUSTOMER_DELETED,
    VENDOR_CREATED,
    VENDOR_UPDATED,
    VENDOR_DELETED,
    SALES_ORDER_CONFIRMED,
    SALES_ORDER_CONFIRMED_V2,
    SALES_ORDER_PAID,
    SALES_ORDER_CANCELLED,
    PURCHASE_ORDER_RECEIVED,
    PURCHASE_ORDER_RECEIVED_V2,
    PURCHASE_ORDER_PAID,
    PURCHASE_ORDER_PAID_V2,
    PURCHASE_ORDER_CANCELLED,
    STOCK_ISSUED,
    STOCK_SHORTAGE,
    STOCK_RETURNED,
    STOCK_LOW,
    STOCK_LOW_V2,
    STOCK_BACKORDERED,
    STOCK_FILLED,
    RECEIPT_REFUSED,
)

_BY_KEY: dict[tuple[str, int], EventType] = {event_type.key: event_type for event_type in ALL}
if len(_BY_KEY) != len(ALL):
    raise RuntimeError("an event type and version is declared twice")

# Which consuming service handles which types (contract §1/§6). The topology binds
# each service's queue to exactly these routing keys; the system check
# ``common.events.checks`` holds each consumer's handler map to exactly these types.
SUBSCRIPTIONS: dict[str, tuple[EventType, ...]] = {
    "inventory": (
        SALES_ORDER_CONFIRMED,
        SALES_ORDER_CONFIRMED_V2,
        PURCHASE_ORDER_RECEIVED,
        PURCHASE_ORDER_RECEIVED_V2,
        SALES_ORDER_CANCELLED,
    ),
    "sales": (
        CUSTOMER_CREATED,
        CUSTOMER_UPDATED,
        CUSTOMER_DELETED,
        STOCK_ISSUED,
        STOCK_SHORTAGE,
        STOCK_RETURNED,
        STOCK_BACKORDERED,
        STOCK_FILLED,
    ),
    "purchase": (VENDOR_CREATED, VENDOR_UPDATED, VENDOR_DELETED, RECEIPT_REFUSED, STOCK_LOW, STOCK_LOW_V2),
}


def lookup(name: str, version: int) -> EventType | None:
    """Return the registered type for ``name`` and ``version``, or None."""
    return _BY_KEY.get((name, version))
