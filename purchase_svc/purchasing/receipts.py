"""Receipts as values: what a caller says arrived, and how it fills the order's lines.

Pure functions over lines the service has already locked: :func:`receipt_allocate`
checks a receipt against what each line still has open and spreads it over the lines,
or refuses it whole (an unknown item is a 400 naming ``items.<n>.item_id``, more than
is open a 409 naming ``items.<n>.quantity``), so a refused receipt writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from common.exceptions import Conflict, ValidationFailed
from common.money import quantize_money

from .models import PurchaseOrderLine


@dataclass(frozen=True)
class ReceiptRequest:
    """An item and how many of it arrived."""

    item_id: uuid.UUID
    quantity: int


class OverReceipt(Conflict):
    """More arrived than a line still expects: 409 with one detail per refused entry.

    Each detail is ``{"field": "items.<n>.quantity", "message", "item_id", "ordered",
    "received", "open", "requested"}``, the figures of the item on the whole order
    (``open`` less what earlier entries of the same receipt already took).
    """

    default_detail = "More than the order still expects."

    def __init__(self, details: list[dict]):
        super().__init__(details=details)


def receipt_requests(raw: Iterable[Mapping]) -> list[ReceiptRequest]:
    """Return :class:`ReceiptRequest` values from validated serializer data (``items``)."""
    return [ReceiptRequest(item_id=entry["item_id"], quantity=entry["quantity"]) for entry in raw]


def receipt_allocate(
    *, lines: Sequence[PurchaseOrderLine], requests: Sequence[ReceiptRequest]
) -> dict[PurchaseOrderLine, int]:
    """Return how many units each line receives, filling an item's lines in their order.

    Raises ``ValidationFailed`` for items not on the order, else ``OverReceipt`` for
    entries beyond what is open; the lines themselves are not changed.
    """
    by_item: dict[uuid.UUID, list[PurchaseOrderLine]] = {}
    for line in sorted(lines, key=lambda line: line.position):
        by_item.setdefault(line.item_id, []).append(line)
    unknown = {
        f"items.{index}.item_id": ["The item is not on this order."]
        for index, request in enumerate(requests)
        if request.item_id not in by_item
    }
    if unknown:
        raise ValidationFailed(unknown)

    taken: dict[PurchaseOrderLine, int] = {}
    refused = []
    for index, request in enumerate(requests):
        item_lines = by_item[request.item_id]
        open_now = sum(line.quantity_open - taken.get(line, 0) for line in item_lines)
        if request.quantity > open_now:
            refused.append(_over_receipt_detail(index, request, item_lines, open_now))
            continue
        remaining = request.quantity
        for line in item_lines:
            share = min(remaining, line.quantity_open - taken.get(line, 0))
            if share > 0:
                taken[line] = taken.get(line, 0) + share
                remaining -= share
    if refused:
        raise OverReceipt(refused)
    return taken


def _over_receipt_detail(
    index: int, request: ReceiptRequest, item_lines: Sequence[PurchaseOrderLine], open_now: int
) -> dict:
    ordered = sum(line.quantity for line in item_lines)
    received = sum(line.quantity_received for line in item_lines)
    return {
        "field": f"items.{index}.quantity",
        "message": f"item {request.item_id}: requested {request.quantity}, open {open_now} "
        f"(ordered {ordered}, received {received})",
        "item_id": str(request.item_id),
        "ordered": ordered,
        "received": received,
        "open": open_now,
        "requested": request.quantity,
    }


def received_amount(lines: Iterable[PurchaseOrderLine]) -> Decimal:
    """Return Σ quantity_received x unit_price, each line's product rounded as a subtotal is."""
    return quantize_money(sum((quantize_money(line.unit_price * line.quantity_received) for line in lines), Decimal(0)))
