"""Reads of purchase orders for the API, the admin and the receipts check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce

from .models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt, PurchaseReceiptLine


def purchase_order_list() -> QuerySet[PurchaseOrder]:
    """Return the orders newest first, lines prefetched: two queries for any page (the list filters narrow them)."""
    return PurchaseOrder.objects.order_by("-created_at", "-id").prefetch_related("lines")


def purchase_receipt_list(*, order_id) -> QuerySet[PurchaseReceipt]:
    """Return the order's receipts oldest first, their lines prefetched (two queries)."""
    return PurchaseReceipt.objects.filter(order_id=order_id).order_by("created_at", "id").prefetch_related("lines")


@dataclass(frozen=True)
class ReceivedLineDiscrepancy:
    """A line whose ``quantity_received`` differs from the sum of its receipt lines."""

    order_id: uuid.UUID
    line_id: uuid.UUID
    item_id: uuid.UUID
    quantity_received: int
    receipts: int


def purchase_received_discrepancies() -> list[ReceivedLineDiscrepancy]:
    """Return every line whose ``quantity_received`` is not Σ its receipt lines (one query)."""
    rows = (
        PurchaseOrderLine.objects.annotate(receipts=Coalesce(Sum("receipt_lines__quantity"), 0))
        .exclude(quantity_received=F("receipts"))
        .order_by("order_id", "position")
        .values_list("order_id", "id", "item_id", "quantity_received", "receipts")
    )
    return [ReceivedLineDiscrepancy(*row) for row in rows]


def purchase_receipt_quantities() -> list[dict]:
    """Return what every receipt received per item, ``{order_id, receipt_id, item_id, quantity}``, as ids in text.

    The figures inventory's ledger must hold exactly (``check_receipt_ledger`` there).
    """
    rows = (
        PurchaseReceiptLine.objects.values("receipt__order_id", "receipt_id", "item_id")
        .annotate(quantity=Sum("quantity"))
        .order_by("receipt__order_id", "receipt_id", "item_id")
    )
    return [
        {
            "order_id": str(row["receipt__order_id"]),
            "receipt_id": str(row["receipt_id"]),
            "item_id": str(row["item_id"]),
            "quantity": row["quantity"],
        }
        for row in rows
    ]
