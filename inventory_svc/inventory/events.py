"""The events inventory_svc publishes: stock issued, short, returned, and low; a receipt refused.

Written to the transactional outbox by the services, inside the transaction of the
stock change, so an event is sent if and only if the change commits (contract §6).

Aggregate versions: the order events are about the order's stock, decided once
(issued, short or backordered: version 1), then one version more for each fill of its
backorders and for its give-back (``SalesOrderIssue.version``; an order without
backorders is given back at version 2), so a consumer that sees them out of order
keeps the later state. ``inventory.stock.low``
is about the item's stock row, whose version grows with every movement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from common.events import PendingEvent, publish_event, publish_events, registry

if TYPE_CHECKING:
    from .models import Stock, StockMovement

ORDER_DECIDED_VERSION = 1


def _moved_lines(movements: Sequence[StockMovement]) -> tuple[registry.StockMovementLine, ...]:
    return tuple(
        registry.StockMovementLine(
            item_id=movement.item_id, quantity=abs(movement.change), quantity_after=movement.quantity_after
        )
        for movement in movements
    )


def stock_issued_publish(*, order_id: uuid.UUID, movements: Sequence[StockMovement]) -> None:
    data = registry.StockMovedData(order_id=order_id, items=_moved_lines(movements))
    publish_event(registry.STOCK_ISSUED, data=data, aggregate_id=order_id, aggregate_version=ORDER_DECIDED_VERSION)


def stock_returned_event(*, order_id: uuid.UUID, movements: Sequence[StockMovement], version: int) -> PendingEvent:
    """What a cancelled order gave back (nothing, if it had only waited): the last event about the order."""
    data = registry.StockMovedData(order_id=order_id, items=_moved_lines(movements))
    return PendingEvent(registry.STOCK_RETURNED, data=data, aggregate_id=order_id, aggregate_version=version)


def stock_progress_event(
    event_type: registry.EventType, *, order_id: uuid.UUID, items: Sequence[registry.StockProgressLine], version: int
) -> PendingEvent:
    """Where a backorder-allowed order's stock stands (``inventory.stock.backordered`` or ``.filled``)."""
    data = registry.StockProgressData(order_id=order_id, items=tuple(items))
    return PendingEvent(event_type, data=data, aggregate_id=order_id, aggregate_version=version)


def stock_shortage_publish(*, order_id: uuid.UUID, short: Sequence[registry.ShortLine]) -> None:
    data = registry.StockShortageData(order_id=order_id, items=tuple(short))
    publish_event(registry.STOCK_SHORTAGE, data=data, aggregate_id=order_id, aggregate_version=ORDER_DECIDED_VERSION)


def stock_low_event(*, stock: Stock) -> PendingEvent | None:
    """``inventory.stock.low`` for ``stock`` as it is now (its figures and version already changed); None for an
    archived item.

    v2 carries what purchase_svc's replenishment computes with (on hand, backordered, the
    reorder and max levels); ``aggregate_version`` is the stock row's, which grows with every
    change of either figure, so the newest figures of an item are known whatever the order.
    An archived item is never announced: no new order may name it, a replenishment draft neither.
    """
    item = stock.item
    if not item.active:
        return None
    data = registry.StockLowV2Data(
        item_id=item.id,
        sku=item.sku,
        quantity=stock.quantity,
        backordered=stock.backordered,
        reorder_level=item.reorder_level,
        max_level=item.max_level,
    )
    return PendingEvent(registry.STOCK_LOW_V2, data=data, aggregate_id=item.id, aggregate_version=stock.version)


def publish(pending: Iterable[PendingEvent | None]) -> None:
    """Publish the events of one change together: one INSERT however many, the relay woken once (None: no event)."""
    publish_events([event for event in pending if event is not None])


def receipt_refused_publish(
    *, order_id: uuid.UUID, receipt_id: uuid.UUID, lines: Sequence[registry.ReceiptLine]
) -> None:
    """Tell purchase_svc that nothing of this receipt was stocked: ``lines`` name items inventory does not have.

    About the receipt, decided once (version 1): a redelivery under another event id says the same.
    """
    data = registry.ReceiptRefusedData(order_id=order_id, receipt_id=receipt_id, items=tuple(lines))
    publish_event(registry.RECEIPT_REFUSED, data=data, aggregate_id=receipt_id, aggregate_version=1)
