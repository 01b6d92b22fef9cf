"""Items, their stock on hand, and the stock ledger.

The database itself holds the rules every writer must follow, so no path (a bug, a
shell, a migration) can break them unseen: a SKU is stored trimmed and upper-cased and
is unique; stock never goes below zero; a movement changes something and never leaves
a negative quantity; a sales order is issued or given back at most once per item, and a
purchase receipt received at most once per item.
``Stock.quantity`` is written only by :func:`inventory.services.stock_movements_apply`,
together with the movements that explain it, so on hand == sum of the ledger.
``Stock.backordered`` is written only by :mod:`inventory.backorders`, with the backorders
it adds up, under the same stock row lock.
"""

from __future__ import annotations

import unicodedata
import uuid
from decimal import Decimal

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Trim, Upper
from django.utils import timezone

from common.money import MoneyField

# Named here because services map the IntegrityError of exactly this constraint to a 409.
SKU_UNIQUE_CONSTRAINT = "inventory_item_sku_uniq"
# How the databases report a duplicate SKU (common.db.unique_violation): PostgreSQL names the
# constraint, SQLite the column it is on (the local run's default database).
SKU_UNIQUE = (SKU_UNIQUE_CONSTRAINT, "inventory_item.sku")
MOVEMENT_ONCE_PER_ORDER_CONSTRAINT = "inventory_movement_once_per_order"
MOVEMENT_ONCE_PER_RECEIPT_CONSTRAINT = "inventory_movement_once_per_receipt"
MOVEMENT_ONCE_PER_FILL_CONSTRAINT = "inventory_movement_once_per_fill"
SKU_MAX_LENGTH = 64


def normalize_sku(sku: str) -> str:
    """Return the one stored form of a SKU: NFKC, upper-cased, trimmed.

    NFKC folds look-alikes (full-width letters, a decomposed accent, a ligature, a
    non-breaking space) into one spelling, so they meet the unique index as the
    same SKU. It runs again after upper-casing, which can decompose a character
    ("\u0390"); only then is the result stable (normalising it again changes nothing).
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", sku).upper()).strip()


def sku_is_visible(sku: str) -> bool:
    """True if every character shows: no control, format (zero-width, bidi), private-use or unassigned one."""
    return all(char == " " or char.isprintable() for char in sku)


class Item(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sku = models.CharField(max_length=SKU_MAX_LENGTH, help_text="Stored trimmed and upper-cased; unique.")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    unit_price = MoneyField(validators=[MinValueValidator(0)])
    reorder_level = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    # Archived (False): kept with its ledger, and its stock still moves for the orders that
    # have it, but no new order may name it. An item an order uses is archived, never deleted.
    # db_default too: the release before archiving inserts items without it while a deploy rolls.
    active = models.BooleanField(default=True, db_default=True)
    # What purchase_svc's replenishment fills up to when the item falls to its reorder level (0: never).
    max_level = models.IntegerField(default=0, db_default=0, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], name=SKU_UNIQUE_CONSTRAINT, violation_error_message="An item with this SKU exists."
            ),
            models.CheckConstraint(
                condition=Q(sku=Upper(Trim("sku"))),
                name="inventory_item_sku_normalized",
            ),
            models.CheckConstraint(condition=~Q(sku=""), name="inventory_item_sku_not_blank"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="inventory_item_unit_price_gte_0"),
            models.CheckConstraint(condition=Q(reorder_level__gte=0), name="inventory_item_reorder_level_gte_0"),
            models.CheckConstraint(condition=Q(max_level__gte=0), name="inventory_item_max_level_gte_0"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="item_created_idx"),
            models.Index(fields=["updated_at"], name="item_updated_idx"),
            models.Index(fields=["name"], name="item_name_idx"),
            # The list's orderings by price and by reorder level (inventory.filters): a page is read in the
            # index's order (ties by id sorted among equal values), not every item sorted for it.
            models.Index(fields=["unit_price"], name="item_unit_price_idx"),
            models.Index(fields=["reorder_level"], name="item_reorder_level_idx"),
            # The list's ?search= (common.filters.SearchFilter) is UPPER(column) LIKE UPPER('%word%'), as Django
            # writes icontains on PostgreSQL: the trigrams of these expressions find the few items a word
            # matches without reading every item. PostgreSQL only (pg_trgm, migration 0011); SQLite scans.
            GinIndex(OpClass(Upper("sku"), name="gin_trgm_ops"), name="item_sku_trgm_idx"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="item_name_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def clean(self) -> None:
        # Runs before constraint validation in full_clean (admin forms, services), so
        # " ab-1 " is stored as "AB-1" instead of tripping the check constraint.
        if self.sku:
            self.sku = normalize_sku(self.sku)
            if not sku_is_visible(self.sku):
                # Invisible characters would make a second SKU that looks like the first.
                raise ValidationError({"sku": "A SKU may contain only visible characters and spaces."})


def stock_summary_figures(
    *, quantity: int, reorder_level: int, active: bool, unit_price: Decimal
) -> tuple[int | None, Decimal]:
    """Return a stock row's ``(reorder_shortfall, value)`` (see :class:`Stock`; migration 0009 has a frozen copy)."""
    at_or_below = active and quantity <= reorder_level
    return (reorder_level - quantity if at_or_below else None), quantity * Decimal(unit_price)


class Stock(models.Model):
    """The stock on hand of one item: one row per item, made with the item."""

    item = models.OneToOneField(Item, primary_key=True, on_delete=models.CASCADE, related_name="stock")
    quantity = models.IntegerField(default=0)
    # What confirmed orders wait for: the sum of the item's open backorders (check_backorders proves it).
    # db_default too: the release before backorders inserts stock rows without it while a deploy rolls.
    backordered = models.IntegerField(default=0, db_default=0)
    # Grows with every movement and every change of backordered (under the row lock): the aggregate version of
    # the stock events (inventory.stock.low carries both figures).
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    # What the back office's home reads of the row (selectors.item_stock_summary) without a pass over every
    # item: how far on hand is at or below the item's reorder level (null: above it, or the item is archived),
    # and what on hand is worth at the item's unit price. Kept by summary_refresh under the row's lock wherever
    # on hand, the unit price, the reorder level or the item's activity changes (services), so an index serves
    # the home; check_stock_ledger recomputes both from the items. Null too on a row the release before them
    # wrote (until the backfill, or check_stock_ledger --repair once a rolling deploy is over).
    reorder_shortfall = models.IntegerField(null=True, blank=True)
    # Wider than money: on hand (up to 2**31 - 1) times a unit price (up to 10**12).
    value = models.DecimalField(max_digits=26, decimal_places=2, null=True, blank=True)

    # The item's fields the two above are computed from: a change of any of them refreshes the row.
    SUMMARY_SOURCES = frozenset({"unit_price", "reorder_level", "active"})
    SUMMARY_FIELDS = ("reorder_shortfall", "value")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="inventory_stock_quantity_gte_0"),
            models.CheckConstraint(condition=Q(backordered__gte=0), name="inventory_stock_backordered_gte_0"),
        ]
        indexes = [
            # The home's items to buy next: counted, and the furthest below read first, from this index alone.
            models.Index(
                fields=["-reorder_shortfall"],
                condition=Q(reorder_shortfall__isnull=False),
                name="stock_below_reorder_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.quantity}"

    def summary_refresh(self, item: Item) -> bool:
        """Recompute ``reorder_shortfall`` and ``value`` from on hand and ``item``; True if either changed.

        The caller holds the row's lock and read ``item`` after taking it (an item's price, reorder
        level and activity change only under its stock row's lock too), then saves the fields.
        """
        figures = stock_summary_figures(
            quantity=self.quantity, reorder_level=item.reorder_level, active=item.active, unit_price=item.unit_price
        )
        changed = figures != (self.reorder_shortfall, self.value)
        self.reorder_shortfall, self.value = figures
        return changed


class MovementReason(models.TextChoices):
    PURCHASE_RECEIPT = "purchase_receipt", "Purchase receipt"
    SALES_ISSUE = "sales_issue", "Sales issue"
    SALES_CANCELLATION = "sales_cancellation", "Sales cancellation"
    ADJUSTMENT = "adjustment", "Adjustment"


# Reasons whose movement answers one order (``reference``).
ORDER_REASONS = (
    MovementReason.PURCHASE_RECEIPT.value,
    MovementReason.SALES_ISSUE.value,
    MovementReason.SALES_CANCELLATION.value,
)
# A sales order moves an item's stock at most once per reason; a purchase order once per receipt.
ONCE_PER_ORDER_REASONS = (MovementReason.SALES_ISSUE.value, MovementReason.SALES_CANCELLATION.value)


class StockMovement(models.Model):
    """One line of the stock ledger: what changed, why, for which order, by whom, and what was left."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: an item with a ledger is not deleted (services refuse it with a 409 first).
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements")
    change = models.IntegerField()
    quantity_after = models.IntegerField()
    reason = models.CharField(max_length=32, choices=MovementReason.choices)
    reference = models.UUIDField(null=True, blank=True, help_text="The order this movement answers, if any.")
    receipt_id = models.UUIDField(
        null=True, blank=True, help_text="The purchase order's receipt, for a purchase receipt (else null)."
    )
    fill = models.PositiveIntegerField(
        null=True, blank=True, help_text="For a sales issue that fills a backorder: its number among the order's fills."
    )
    note = models.CharField(max_length=255, blank=True, default="", help_text="Free text given with an adjustment.")
    actor = models.CharField(max_length=255, help_text="Who moved the stock: a user's email, or a service.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=~Q(change=0), name="inventory_movement_change_not_0"),
            models.CheckConstraint(condition=Q(quantity_after__gte=0), name="inventory_movement_after_gte_0"),
            models.CheckConstraint(
                condition=Q(reason__in=MovementReason.values), name="inventory_movement_reason_valid"
            ),
            # An order's movement names its order; an adjustment names none.
            models.CheckConstraint(
                condition=Q(reason__in=ORDER_REASONS, reference__isnull=False)
                | Q(reason=MovementReason.ADJUSTMENT.value, reference__isnull=True),
                name="inventory_movement_reference_matches_reason",
            ),
            # A purchase receipt names its receipt; nothing else does.
            models.CheckConstraint(
                condition=Q(reason=MovementReason.PURCHASE_RECEIPT.value, receipt_id__isnull=False)
                | (~Q(reason=MovementReason.PURCHASE_RECEIPT.value) & Q(receipt_id__isnull=True)),
                name="inventory_movement_receipt_matches_reason",
            ),
            # Only a sales issue fills a backorder.
            models.CheckConstraint(
                condition=Q(fill__isnull=True) | Q(reason=MovementReason.SALES_ISSUE.value),
                name="inventory_movement_fill_is_issue",
            ),
            # Whatever is redelivered, a sales order moves an item's stock once per reason at
            # its confirmation or cancellation...
            models.UniqueConstraint(
                fields=["item", "reason", "reference"],
                condition=Q(reason__in=ONCE_PER_ORDER_REASONS, fill__isnull=True),
                name=MOVEMENT_ONCE_PER_ORDER_CONSTRAINT,
            ),
            # ... and once per fill of its backorder as stock arrives...
            models.UniqueConstraint(
                fields=["item", "reference", "fill"],
                condition=Q(fill__isnull=False),
                name=MOVEMENT_ONCE_PER_FILL_CONSTRAINT,
            ),
            # ... and a purchase order once per receipt.
            models.UniqueConstraint(
                fields=["item", "reference", "receipt_id"],
                condition=Q(reason=MovementReason.PURCHASE_RECEIPT.value),
                name=MOVEMENT_ONCE_PER_RECEIPT_CONSTRAINT,
            ),
        ]
        indexes = [
            models.Index(fields=["item", "-created_at"], name="movement_item_created_idx"),
            models.Index(fields=["reference", "reason"], name="movement_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.change:+d} ({self.reason})"


class IssueOutcome(models.TextChoices):
    ISSUED = "issued", "Issued"
    SHORT = "short", "Short"
    BACKORDERED = "backordered", "Backordered"


class SalesOrderIssue(models.Model):
    """What inventory decided for a confirmed sales order: issued in full, short (nothing issued), or backordered.

    A shortage leaves no trace in the ledger, so without this row a second delivery of the
    same order under another event id could issue it after all, behind the back of a sales
    order already marked short. The row is the decision, taken once per order.
    ``version`` is the aggregate version of the order's stock events: 1 for the decision,
    one more for each fill of its backorders and for its give-back, bumped under this
    row's lock, so sales keeps the newest figures whatever order they arrive in.
    """

    order_id = models.UUIDField(primary_key=True)
    outcome = models.CharField(max_length=16, choices=IssueOutcome.choices)
    decided_at = models.DateTimeField(default=timezone.now)
    # db_default too: the release before backorders records decisions without it while a deploy rolls.
    version = models.PositiveIntegerField(default=1, db_default=1)
    # Set when the cancelled order's backorders were dropped and its stock given back: once.
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=IssueOutcome.values), name="inventory_issue_outcome_valid")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.outcome}"


class Backorder(models.Model):
    """What one confirmed sales order still waits for of one item, filled first come, first served.

    Made when the order's confirmation found too little on hand (``quantity``), filled by
    :mod:`inventory.backorders` as the item's stock rises (each fill a ``sales_issue``
    movement numbered ``fill``), dropped when the order is cancelled. ``confirmed_at``
    (when sales confirmed the order) orders the queue. Always
    ``quantity = filled + quantity_open + quantity_dropped``, where filled is the sum of
    its fill movements; written only under its item's stock row lock.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField()
    # PROTECT: an item that orders wait for is not deleted (it has a ledger by then anyway).
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="backorders")
    confirmed_at = models.DateTimeField(help_text="When sales confirmed the order: the queue's order.")
    quantity = models.PositiveIntegerField(help_text="Backordered when the order was confirmed.")
    quantity_open = models.PositiveIntegerField(help_text="Still waiting for stock.")
    quantity_dropped = models.PositiveIntegerField(default=0, help_text="No longer wanted: the order was cancelled.")
    fills = models.PositiveIntegerField(default=0, help_text="How many fill movements it has had.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("confirmed_at", "order_id")
        constraints = [
            models.UniqueConstraint(fields=["order_id", "item"], name="inventory_backorder_once_per_order_item"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="inventory_backorder_quantity_gte_1"),
            models.CheckConstraint(
                condition=Q(quantity__gte=models.F("quantity_open") + models.F("quantity_dropped")),
                name="inventory_backorder_open_dropped_lte_quantity",
            ),
        ]
        indexes = [
            # The queue of an item: its open backorders, oldest confirmation first.
            models.Index(
                fields=["item", "confirmed_at", "order_id"],
                condition=Q(quantity_open__gt=0),
                name="backorder_open_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.item_id}: {self.quantity_open} of {self.quantity} open"

    @property
    def quantity_filled(self) -> int:
        return self.quantity - self.quantity_open - self.quantity_dropped
