"""Order lines as values: what a caller asks for, and the priced line that gets stored.

A line's price defaults to the item's current ``unit_price``; ``subtotal`` and the
order's total are exact decimals (:mod:`common.money`), never floats.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from common.events import registry
from common.exceptions import ValidationFailed
from common.money import DECIMAL_PLACES, MAX_DIGITS, quantize_money

# The largest amount a NUMERIC(14,2) column holds: a line or total above it is bad input, not a 500.
MAX_AMOUNT = Decimal(10 ** (MAX_DIGITS - DECIMAL_PLACES)) - Decimal("0.01")


@dataclass(frozen=True)
class LineRequest:
    """A line as the caller gave it; ``unit_price`` None takes the item's price."""

    item_id: uuid.UUID
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class ItemRef:
    """What the owning service says of an item, copied onto the line."""

    id: uuid.UUID
    sku: str
    name: str
    unit_price: Decimal
    active: bool = True  # False: archived, refused on a new line


@dataclass(frozen=True)
class PricedLine:
    item_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal


def line_requests(raw: Iterable[Mapping]) -> list[LineRequest]:
    """Return :class:`LineRequest` values from validated serializer data (``items``)."""
    return [
        LineRequest(item_id=line["item_id"], quantity=line["quantity"], unit_price=line.get("unit_price"))
        for line in raw
    ]


def lines_price(*, lines: Sequence[LineRequest], items: Mapping[uuid.UUID, ItemRef]) -> list[PricedLine]:
    """Price each line from its item (every ``item_id`` must be in ``items``).

    Raises ``ValidationFailed`` (400) naming ``items.<n>.quantity`` (or ``items``) for an amount
    too large to store.
    """
    priced = []
    for index, line in enumerate(lines):
        item = items[line.item_id]
        unit_price = quantize_money(item.unit_price if line.unit_price is None else line.unit_price)
        priced.append(
            PricedLine(
                item_id=item.id,
                sku=item.sku,
                name=item.name,
                quantity=line.quantity,
                unit_price=unit_price,
                subtotal=quantize_money(unit_price * line.quantity),
            )
        )
        if priced[-1].subtotal > MAX_AMOUNT:
            raise ValidationFailed({f"items.{index}.quantity": [f"The subtotal would exceed {MAX_AMOUNT}."]})
    if lines_total(priced) > MAX_AMOUNT:
        raise ValidationFailed({"items": [f"The total would exceed {MAX_AMOUNT}."]})
    return priced


def lines_total(lines: Iterable[PricedLine]) -> Decimal:
    """Return the exact sum of the subtotals (0.00 for no lines)."""
    return quantize_money(sum((line.subtotal for line in lines), Decimal(0)))


def lines_event_data(lines: Iterable) -> tuple[registry.OrderLine, ...]:
    """Return stored lines as the events carry them (``registry.OrderLine``)."""
    return tuple(
        registry.OrderLine(
            item_id=line.item_id, quantity=line.quantity, unit_price=line.unit_price, subtotal=line.subtotal
        )
        for line in lines
    )
