"""Sales orders and their lines, on the order-document bases (order_documents.models).

``stock_status`` is inventory's answer to a confirmation, set by the event handlers:
null while a draft, ``pending`` from confirmation until inventory answers, then
``issued`` or ``short`` (or, for an order that allows backorders, ``backordered`` until
the last unit ships, then ``issued``), and ``returned`` once a cancelled order's stock is
back. A line's ``quantity_issued`` and ``quantity_backordered`` are inventory's figures
too, written only by those handlers.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from order_documents.models import OrderDocument, OrderLine, OrderStatusChange, PartyVersion


class CustomerVersion(PartyVersion):
    """The newest version of each customer heard of from contact events."""


class SalesOrder(OrderDocument):
    class Status(models.TextChoices):
        DRAFT = "Draft"
        CONFIRMED = "Confirmed"
        PAID = "Paid"
        CANCELLED = "Cancelled"

    class StockStatus(models.TextChoices):
        PENDING = "pending"
        ISSUED = "issued"
        SHORT = "short"
        RETURNED = "returned"
        BACKORDERED = "backordered"

    customer_id = models.UUIDField(db_index=True)
    customer_name = models.CharField(max_length=255)
    # The contact's aggregate_version the name was copied from (null: read at creation).
    customer_version = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Null, not "": inventory has not been asked (a draft), which the API answers as null.
    stock_status = models.CharField(max_length=16, choices=StockStatus.choices, null=True, blank=True)  # noqa: DJ001
    confirmed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Ship what is on hand and let the rest wait for stock, instead of refusing or going short.
    allow_backorder = models.BooleanField(default=False, db_default=False)
    # The aggregate_version of inventory's newest figures applied (its events about the order).
    stock_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # (db_default on the columns backorders added: the release before them, still running on some pods during a
    # rolling deploy, inserts orders and lines without naming them.)

    class Meta(OrderDocument.Meta):
        verbose_name = "sales order"
        indexes = [
            # The orders waiting for inventory's answer, by confirmation: few at any time, so the watchdog, /metrics
            # and the back office's home count them without reading the other orders (sales_order_list_stuck_pending).
            models.Index(fields=["confirmed_at"], condition=Q(stock_status="pending"), name="sales_order_pending_idx"),
            # The list's filters and orderings (sales.filters), each read in the order of its first page: a
            # customer's orders and those of one stock status newest first (the default order), and the orderings
            # by last change and by total; not every order sorted for a page.
            models.Index(fields=["customer_id", "-created_at"], name="sales_order_customer_idx"),
            models.Index(fields=["stock_status", "-created_at"], name="sales_order_stock_status_idx"),
            models.Index(fields=["updated_at"], name="sales_order_updated_idx"),
            models.Index(fields=["total_amount"], name="sales_order_total_idx"),
        ]


class SalesOrderLine(OrderLine):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    quantity_issued = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    quantity_backordered = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    class Meta(OrderLine.Meta):
        verbose_name = "sales order line"
        constraints = [
            *OrderLine.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(quantity__gte=models.F("quantity_issued") + models.F("quantity_backordered")),
                name="sales_line_issued_backordered_lte_quantity",
            ),
        ]


class SalesOrderStatusChange(OrderStatusChange):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="status_changes")

    class Meta(OrderStatusChange.Meta):
        verbose_name = "sales order status change"
