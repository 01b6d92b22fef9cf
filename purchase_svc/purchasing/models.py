"""Purchase orders and their lines, on the order-document bases (order_documents.models).

A purchase line's ``unit_price`` is the agreed cost (by default the item's price).
"""

from __future__ import annotations

from django.db import models

from order_documents.models import OrderDocument, OrderLine, OrderStatusChange, PartyVersion


class VendorVersion(PartyVersion):
    """The newest version of each vendor heard of from contact events."""


class PurchaseOrder(OrderDocument):
    class Status(models.TextChoices):
        DRAFT = "Draft"
        RECEIVED = "Received"
        PAID = "Paid"
        CANCELLED = "Cancelled"

    vendor_id = models.UUIDField(db_index=True)
    vendor_name = models.CharField(max_length=255)
    # The contact's aggregate_version the name was copied from (null: read at creation).
    vendor_version = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    received_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta(OrderDocument.Meta):
        verbose_name = "purchase order"


class PurchaseOrderLine(OrderLine):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")

    class Meta(OrderLine.Meta):
        verbose_name = "purchase order line"


class PurchaseOrderStatusChange(OrderStatusChange):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="status_changes")

    class Meta(OrderStatusChange.Meta):
        verbose_name = "purchase order status change"
