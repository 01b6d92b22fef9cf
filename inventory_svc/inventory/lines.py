"""Order lines as inventory reads them, and the short lines it reports.

Services and selectors take any object with ``item_id`` and ``quantity`` (the
typed lines of the order events have that shape too), and add up the quantities of
an item that appears on several lines: an order moves an item's stock once. A short
line is the registry's own :class:`~common.events.registry.ShortLine`, what
``inventory.stock.shortage`` and the availability answer both carry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from common.events.registry import ShortLine

__all__ = ["Line", "PendingLine", "ShortLine", "StockLine", "quantities_by_item"]


class Line(Protocol):
    item_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class StockLine:
    item_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class PendingLine:
    """What a sales order confirmed before inventory applied it wants of one item (the availability check's claims)."""

    order_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int


def quantities_by_item(lines: Iterable[Line]) -> dict[uuid.UUID, int]:
    """Sum the quantities per item, keeping the order in which the items first appear."""
    merged: dict[uuid.UUID, int] = {}
    for line in lines:
        merged[line.item_id] = merged.get(line.item_id, 0) + line.quantity
    return merged
