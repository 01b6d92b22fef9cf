"""The events inventory_svc publishes: stock issued, short, returned, and low.

Written to the transactional outbox by the services, inside the transaction of the
stock change, so an event is sent if and only if the change commits (CONTRACT §6).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from common.events import publish_event, registry

if TYPE_CHECKING:
    from .lines import ShortLine
    from .models import Stock, StockMovement


def _moved_lines(movements: Sequence[StockMovement]) -> list[dict]:
    return [
        {"item_id": movement.item_id, "quantity": abs(movement.change), "quantity_after": movement.quantity_after}
        for movement in movements
    ]


def stock_issued_publish(*, order_id: uuid.UUID, movements: Sequence[StockMovement]) -> None:
    data = {"order_id": order_id, "items": _moved_lines(movements)}
    publish_event(registry.STOCK_ISSUED, data=data, aggregate_id=str(order_id))


def stock_returned_publish(*, order_id: uuid.UUID, movements: Sequence[StockMovement]) -> None:
    data = {"order_id": order_id, "items": _moved_lines(movements)}
    publish_event(registry.STOCK_RETURNED, data=data, aggregate_id=str(order_id))


def stock_shortage_publish(*, order_id: uuid.UUID, short: Sequence[ShortLine]) -> None:
    items = [{"item_id": line.item_id, "requested": line.requested, "available": line.available} for line in short]
    publish_event(registry.STOCK_SHORTAGE, data={"order_id": order_id, "items": items}, aggregate_id=str(order_id))


def stock_low_publish(*, stock: Stock) -> None:
    """Announce that ``stock`` (its quantity already changed) went to or below its reorder level."""
    item = stock.item
    data = {"item_id": item.id, "sku": item.sku, "quantity": stock.quantity, "reorder_level": item.reorder_level}
    publish_event(registry.STOCK_LOW, data=data, aggregate_id=str(item.id))
