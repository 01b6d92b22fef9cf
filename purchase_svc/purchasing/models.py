"""Purchase orders, their lines, and the receipts of what arrived, on the order-document bases.

A purchase line's ``unit_price`` is the agreed cost (by default the item's price). Goods
arrive in parts: each :class:`PurchaseReceipt` records what came in one delivery, one
:class:`PurchaseReceiptLine` per order line it fills, and the line's ``quantity_received``
is the sum of its receipt lines (``manage.py check_purchase_receipts`` proves it). The
database holds every writer to ``0 <= quantity_received <= quantity``: a line is never
over-received, whatever races.

Replenishment (:mod:`purchasing.replenishment`): a :class:`VendorItem` is what a vendor sells
an item at and in which packs; at most one per item is preferred. A low-stock event adds a
line to the preferred vendor's one open replenishment draft (``origin`` replenishment), which
the database holds unique per vendor; :class:`LowStockItem` keeps the newest figures heard of
per item, and lists the items that need stock but have no preferred vendor.
"""

from __future__ import annotations

import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from common.money import MoneyField
from order_documents.models import OrderDocument, OrderLine, OrderStatusChange, PartyVersion

# "PartiallyReceived" is 17 characters: the purchase statuses need more than the documents' 16.
STATUS_MAX_LENGTH = 32


class VendorVersion(PartyVersion):
    """The newest version of each vendor heard of from contact events."""


REPLENISHMENT_DRAFT_UNIQUE = "purchasing_one_replenishment_draft_per_vendor"
VENDOR_ITEM_UNIQUE = "purchasing_vendor_item_uniq"
VENDOR_ITEM_ONE_PREFERRED = "purchasing_vendor_item_one_preferred"


class PurchaseOrder(OrderDocument):
    class Status(models.TextChoices):
        DRAFT = "Draft"
        PARTIALLY_RECEIVED = "PartiallyReceived"
        RECEIVED = "Received"
        PAID = "Paid"
        CANCELLED = "Cancelled"

    class Origin(models.TextChoices):
        MANUAL = "manual"
        REPLENISHMENT = "replenishment"

    vendor_id = models.UUIDField(db_index=True)
    vendor_name = models.CharField(max_length=255)
    # The contact's aggregate_version the name was copied from (null: read at creation).
    vendor_version = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=STATUS_MAX_LENGTH, choices=Status.choices, default=Status.DRAFT, db_index=True)
    received_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Σ quantity_received x unit_price of the lines, kept by the receipts: what is payable. (db_default
    # here and below: the release before receipts inserts orders and lines without them while a deploy rolls.)
    received_amount = MoneyField(default=0, db_default=0)
    # Received by closing it: what was not received is no longer expected.
    closed_short = models.BooleanField(default=False, db_default=False)
    # When inventory first refused to stock one of its receipts (an item it no longer has): an
    # operator settles it (stock adjusted by hand, the vendor told). Null: every receipt was stocked.
    stock_refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who made it: a person (manual) or the low-stock events (replenishment); an ordinary order either way.
    # (db_default: the release before replenishment inserts orders without it while a deploy rolls.)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL, db_default=Origin.MANUAL)

    class Meta(OrderDocument.Meta):
        verbose_name = "purchase order"
        indexes = [
            # The list's filters and orderings (purchasing.filters), each read in the order of its first page, as
            # the sales order list's: a vendor's orders newest first (the default order), the orders with a receipt
            # inventory refused (an operator's few to settle), and the orderings by last change and by total.
            models.Index(fields=["vendor_id", "-created_at"], name="purchase_order_vendor_idx"),
            models.Index(
                fields=["-created_at"],
                condition=Q(stock_refused_at__isnull=False),
                name="purchase_order_refused_idx",
            ),
            models.Index(fields=["updated_at"], name="purchase_order_updated_idx"),
            models.Index(fields=["total_amount"], name="purchase_order_total_idx"),
        ]
        constraints = [
            # What makes two consumers racing for one vendor end in one draft: the second waits on this index.
            models.UniqueConstraint(
                fields=["vendor_id"],
                condition=Q(status="Draft", origin="replenishment"),
                name=REPLENISHMENT_DRAFT_UNIQUE,
            ),
        ]


class PurchaseOrderLine(OrderLine):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    quantity_received = models.PositiveIntegerField(default=0, db_default=0)

    class Meta(OrderLine.Meta):
        verbose_name = "purchase order line"
        constraints = [
            *OrderLine.Meta.constraints,
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity")), name="purchasing_line_not_over_received"
            ),
        ]

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_received


class PurchaseOrderStatusChange(OrderStatusChange):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=STATUS_MAX_LENGTH)
    to_status = models.CharField(max_length=STATUS_MAX_LENGTH)

    class Meta(OrderStatusChange.Meta):
        verbose_name = "purchase order status change"


class PurchaseReceipt(models.Model):
    """One delivery against an order: written once, never changed (a correction is a stock adjustment).

    Its id travels in ``purchase.order.received`` v2, and inventory moves stock once per
    receipt and item. The receipt a migrated order got for its earlier whole receipt has
    the order's own id, as inventory names a v1 event's receipt.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="receipts")
    actor = models.CharField(max_length=255, help_text="Who recorded it: a user's email, a staff member, or a command.")
    created_at = models.DateTimeField(db_index=True)
    # Set once, from ``inventory.receipt.refused``: none of this receipt was stocked.
    stock_refused_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = "purchase receipt"

    def __str__(self) -> str:
        return f"receipt {self.id} of {self.order_id}"


class PurchaseReceiptLine(models.Model):
    """What one receipt added to one order line."""

    id = models.BigAutoField(primary_key=True)
    receipt = models.ForeignKey(PurchaseReceipt, on_delete=models.CASCADE, related_name="lines")
    # PROTECT: a received line is never replaced (lines change only in Draft, before any receipt).
    line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipt_lines")
    item_id = models.UUIDField()
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ("id",)
        verbose_name = "purchase receipt line"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="purchasing_receipt_line_quantity_positive"),
            models.UniqueConstraint(fields=("receipt", "line"), name="purchasing_receipt_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.item_id}"


class VendorItem(models.Model):
    """What one vendor sells one item at: its cost, lead time and packs; at most one per item is preferred.

    Vendor and item are other services' records, referenced by id with their names copied
    (the vendor's kept fresh from contact events, as the orders' are).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor_id = models.UUIDField(db_index=True)
    vendor_name = models.CharField(max_length=255)
    vendor_version = models.BigIntegerField(null=True, blank=True, editable=False)
    item_id = models.UUIDField(db_index=True)
    sku = models.CharField(max_length=64)
    # The item's name as inventory had it: the name of the lines replenishment writes.
    item_name = models.CharField(max_length=255)
    vendor_sku = models.CharField(max_length=64, blank=True, default="")
    unit_cost = MoneyField(validators=[MinValueValidator(0)])
    lead_time_days = models.PositiveIntegerField(default=0)
    min_order_quantity = models.PositiveIntegerField(default=1)
    pack_size = models.PositiveIntegerField(default=1)
    preferred = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "vendor item"
        constraints = [
            models.UniqueConstraint(fields=["vendor_id", "item_id"], name=VENDOR_ITEM_UNIQUE),
            models.UniqueConstraint(fields=["item_id"], condition=Q(preferred=True), name=VENDOR_ITEM_ONE_PREFERRED),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="purchasing_vendor_item_cost_gte_0"),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="purchasing_vendor_item_pack_gte_1"),
            models.CheckConstraint(condition=Q(min_order_quantity__gte=1), name="purchasing_vendor_item_moq_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} from {self.vendor_name}"


class LowStockItem(models.Model):
    """The newest ``inventory.stock.low`` figures of an item (``stock_version`` keeps the newest)."""

    item_id = models.UUIDField(primary_key=True)
    sku = models.CharField(max_length=64)
    quantity = models.IntegerField(help_text="On hand.")
    backordered = models.IntegerField()
    reorder_level = models.IntegerField()
    max_level = models.IntegerField()
    stock_version = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("sku", "item_id")
        verbose_name = "item needing a vendor"

    def __str__(self) -> str:
        return f"{self.sku}: {self.quantity} on hand, {self.backordered} backordered"
