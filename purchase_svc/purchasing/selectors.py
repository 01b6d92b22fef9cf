"""Reads of purchase orders for the API, the admin and the receipts check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from common.money import quantize_money
from common.summaries import per_day

from .models import LowStockItem, PurchaseOrder, PurchaseOrderLine, PurchaseReceipt, PurchaseReceiptLine, VendorItem

# The orders that still expect goods: a cancelled order, or one received (closed short or not), expects none.
OPEN_STATUSES = (PurchaseOrder.Status.DRAFT, PurchaseOrder.Status.PARTIALLY_RECEIVED)


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
    """Return every line whose ``quantity_received`` is not sum of its receipt lines (one query)."""
    rows = (
        PurchaseOrderLine.objects.annotate(receipts=Coalesce(Sum("receipt_lines__quantity"), 0))
        .exclude(quantity_received=F("receipts"))
        .order_by("order_id", "position")
        .values_list("order_id", "id", "item_id", "quantity_received", "receipts")
    )
    return [ReceivedLineDiscrepancy(*row) for row in rows]


@dataclass(frozen=True)
class OrderReceiptDiscrepancy:
    """An order whose ``received_amount`` or status does not follow from its receipts."""

    order_id: uuid.UUID
    status: str
    problem: str


def purchase_order_receipt_discrepancies() -> list[OrderReceiptDiscrepancy]:
    """Return every order whose ``received_amount`` or status disagrees with its receipts (two queries a chunk).

    What arrived is sum of the receipt lines per line (not ``quantity_received``, which
    :func:`purchase_received_discrepancies` checks), so a drift is named once, where it is.
    ``received_amount`` is sum of arrived x unit price, as the receipts keep it; nothing arrives in
    Draft or Cancelled, a PartiallyReceived order has had something and expects more, and a
    Received or Paid one expects nothing more unless it was closed short (which only they are).
    """
    lines = PurchaseOrderLine.objects.annotate(arrived=Coalesce(Sum("receipt_lines__quantity"), 0))
    orders = PurchaseOrder.objects.order_by("created_at", "id").prefetch_related(Prefetch("lines", queryset=lines))
    found = []
    for order in orders.iterator(chunk_size=500):
        problems = _order_receipt_problems(order, list(order.lines.all()))
        found.extend(OrderReceiptDiscrepancy(order.id, order.status, problem) for problem in problems)
    return found


def _order_receipt_problems(order: PurchaseOrder, lines: list[PurchaseOrderLine]) -> list[str]:
    Status = PurchaseOrder.Status
    amount = quantize_money(sum((line.unit_price * line.arrived for line in lines), Decimal(0)))
    arrived, expected = any(line.arrived for line in lines), any(line.arrived < line.quantity for line in lines)
    problems = []
    if order.received_amount != amount:
        problems.append(f"received_amount {order.received_amount}, receipts {amount}")
    if order.status in (Status.DRAFT, Status.CANCELLED) and arrived:
        problems.append("has receipts")
    if order.status == Status.PARTIALLY_RECEIVED and not (arrived and expected):
        problems.append("expects nothing more" if arrived else "has no receipt")
    if order.status in (Status.RECEIVED, Status.PAID) and expected and not order.closed_short:
        problems.append("still expects units but was not closed short")
    if order.closed_short and order.status not in (Status.RECEIVED, Status.PAID):
        problems.append("closed short")
    return problems


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


def vendor_item_list() -> QuerySet[VendorItem]:
    return VendorItem.objects.order_by("-created_at", "-id")


def _open_lines() -> QuerySet[PurchaseOrderLine]:
    return PurchaseOrderLine.objects.filter(order__status__in=OPEN_STATUSES)


def item_on_order(*, item_id: uuid.UUID) -> int:
    """Return the item's open quantity (ordered - received) on Draft and PartiallyReceived orders."""
    open_quantity = Sum(F("quantity") - F("quantity_received"))
    return _open_lines().filter(item_id=item_id).aggregate(total=Coalesce(open_quantity, 0))["total"]


def replenishment_need_list() -> QuerySet[LowStockItem]:
    """Return the items that need stock but have no preferred vendor item, with ``on_order`` and ``needed``.

    One query: the figures are the newest low-stock event's, ``on_order`` is counted now. An
    item with a max level of 0 is never reordered, so never listed.
    """
    on_order = (
        _open_lines()
        .filter(item_id=OuterRef("item_id"))
        .values("item_id")
        .annotate(total=Sum(F("quantity") - F("quantity_received")))
        .values("total")
    )
    preferred = VendorItem.objects.filter(item_id=OuterRef("item_id"), preferred=True)
    return (
        LowStockItem.objects.filter(max_level__gt=0)
        .annotate(on_order=Coalesce(Subquery(on_order, output_field=IntegerField()), Value(0)))
        .annotate(needed=F("max_level") + F("backordered") - F("quantity") - F("on_order"))
        .filter(~Exists(preferred), needed__gt=0)
        .order_by("sku", "item_id")
    )


def replenishment_discrepancies() -> list[str]:
    """Return what breaks the replenishment's rules, one sentence each (the check command's findings).

    At most one open replenishment draft per vendor and one preferred vendor item per item
    (the database's constraints hold both; this proves it of the rows); an open replenishment
    draft is never empty (none is left behind when nothing was needed), each of its lines costs
    quantity x unit price and its total is their sum (the replenishment grows them in place).
    """
    found = []
    drafts = (
        PurchaseOrder.objects.filter(status=PurchaseOrder.Status.DRAFT, origin=PurchaseOrder.Origin.REPLENISHMENT)
        .values("vendor_id")
        .annotate(drafts=Count("id"))
        .filter(drafts__gt=1)
    )
    found += [f"vendor {row['vendor_id']} has {row['drafts']} open replenishment drafts" for row in drafts]
    preferred = VendorItem.objects.filter(preferred=True).values("item_id").annotate(n=Count("id")).filter(n__gt=1)
    found += [f"item {row['item_id']} has {row['n']} preferred vendor items" for row in preferred]
    drafts = PurchaseOrder.objects.filter(
        status=PurchaseOrder.Status.DRAFT, origin=PurchaseOrder.Origin.REPLENISHMENT
    ).prefetch_related("lines")
    for draft in drafts.order_by("created_at", "id"):
        found += [f"replenishment draft {draft.id}: {problem}" for problem in _draft_problems(draft)]
    return found


def _draft_problems(draft: PurchaseOrder) -> list[str]:
    lines = list(draft.lines.all())
    problems = [] if lines else ["has no lines"]
    problems += [
        f"line {line.position} ({line.sku}): subtotal {line.subtotal}, {line.quantity} x {line.unit_price}"
        for line in lines
        if line.subtotal != quantize_money(line.quantity * line.unit_price)
    ]
    total = quantize_money(sum((line.subtotal for line in lines), Decimal(0)))
    if draft.total_amount != total:
        problems.append(f"total_amount {draft.total_amount}, lines {total}")
    return problems


# How many replenishment drafts the summary lists, largest first.
SUMMARY_ROWS = 10


def purchase_summary() -> dict:
    """Return what the back office's home shows of purchasing: receipts per day, open replenishment drafts.

    Three queries whatever the number of orders: the last 30 days' receipts grouped by UTC day
    (the index on ``created_at``; a receipt's units from its lines), and the replenishment drafts
    (one per vendor: the partial unique index of open ones) added up, then the largest few by value.
    """
    drafts = PurchaseOrder.objects.filter(status=PurchaseOrder.Status.DRAFT, origin=PurchaseOrder.Origin.REPLENISHMENT)
    totals = drafts.aggregate(count=Count("pk"), amount=Coalesce(Sum("total_amount"), Value(Decimal("0"))))
    largest = drafts.annotate(lines_count=Count("lines")).order_by("-total_amount", "vendor_name", "id")
    return {
        "receipts_per_day": per_day(
            PurchaseReceipt.objects.all(),
            field="created_at",
            aggregates={"receipts": Count("pk", distinct=True), "units": Coalesce(Sum("lines__quantity"), 0)},
            empty={"receipts": 0, "units": 0},
        ),
        "replenishment_drafts": {
            "count": totals["count"],
            "amount": totals["amount"],
            "largest": list(
                largest.values("id", "vendor_id", "vendor_name", "lines_count", "total_amount", "created_at")[
                    :SUMMARY_ROWS
                ]
            ),
        },
    }
