"""The events inventory_svc consumes, each handed to one service (contract §6).

``manage.py consume_events`` runs a handler in one transaction with the inbox record
of its event id, so a redelivered event is applied once; the services are idempotent
by order (sales) and by receipt (purchase) as well (the ledger, and the decision
recorded per sales order), so the same order or receipt under a second event id
changes nothing either. ``event.data`` arrives typed and
checked against the registry (a message that does not match is dead-lettered before
it gets here); what the types cannot say (a line of 0 units, an order without lines, a
purchase order received both whole and by receipts) is refused here, as permanently.

A receipt naming an item inventory does not have (deleted while its order was open) is
not stocked at all, and not retried or dead-lettered either: inventory records the
refusal as ``inventory.receipt.refused`` (with the event's inbox record, so once), and
purchase_svc shows it on the order and counts it for the operator (issue 26).

The consumer applies up to ``ERP_EVENTS["BATCH_SIZE"]`` delivered events in one
transaction (each in a savepoint with its inbox row): the sales of one popular item then
wait for its stock row once per batch, not once per event. :func:`stock_lock_for_batch`
first locks every stock row of the batch in the lock order (``inventory.services``), so
that competing consumers' batches queue instead of deadlocking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from common.events import Event, PoisonMessage, registry

from .events import receipt_refused_publish
from .services import (
    UnknownItems,
    WholeAndPartsReceived,
    stock_issue_for_order,
    stock_receive_for_order,
    stock_receive_for_receipt,
    stock_return_for_order,
    stock_rows_lock_for_batch,
)

logger = logging.getLogger(__name__)


def handle_sales_order_confirmed(event: Event) -> None:
    """v1: an order that does not allow backorders (issued whole, or short)."""
    data: registry.SalesOrderConfirmedData = event.data
    stock_issue_for_order(order_id=data.order_id, lines=_checked(data.items), actor=_actor(event))


def handle_sales_order_confirmed_v2(event: Event) -> None:
    """v2: ``allow_backorder`` says whether what is short waits; the event's time is the order's place in line."""
    data: registry.SalesOrderConfirmedV2Data = event.data
    stock_issue_for_order(
        order_id=data.order_id,
        lines=_checked(data.items),
        actor=_actor(event),
        allow_backorder=data.allow_backorder,
        confirmed_at=event.occurred_at,
    )


def handle_purchase_order_received(event: Event) -> None:
    """v1, the whole order at once: one receipt of the whole order."""
    data: registry.PurchaseOrderReceivedData = event.data
    with _received_once(order_id=data.order_id, receipt_id=data.order_id, lines=data.items):
        stock_receive_for_order(order_id=data.order_id, lines=_checked(data.items), actor=_actor(event))


def handle_purchase_receipt(event: Event) -> None:
    """v2, one receipt: its lines, once per receipt and item."""
    data: registry.PurchaseReceiptData = event.data
    with _received_once(order_id=data.order_id, receipt_id=data.receipt_id, lines=data.items):
        stock_receive_for_receipt(
            order_id=data.order_id, receipt_id=data.receipt_id, lines=_checked(data.items), actor=_actor(event)
        )


@contextmanager
def _received_once(*, order_id, receipt_id, lines: Sequence[registry.OrderLine]):
    """Refuse a receipt that cannot be stocked: counted twice is poison, into unknown items is reported.

    The receipt's own transaction (a savepoint) has rolled back when the refusal is written.
    """
    try:
        yield
    except WholeAndPartsReceived as exc:
        raise PoisonMessage(str(exc)) from exc
    except UnknownItems as exc:
        unknown = set(exc.item_ids)
        refused = [
            registry.ReceiptLine(item_id=line.item_id, quantity=line.quantity)
            for line in lines
            if line.item_id in unknown
        ]
        logger.error("receipt %s of purchase order %s refused: %s", receipt_id, order_id, exc)
        receipt_refused_publish(order_id=order_id, receipt_id=receipt_id, lines=refused)


def handle_sales_order_cancelled(event: Event) -> None:
    data: registry.OrderCancelledData = event.data
    stock_return_for_order(order_id=data.order_id, actor=_actor(event))


HANDLERS = {
    registry.SALES_ORDER_CONFIRMED: handle_sales_order_confirmed,
    registry.SALES_ORDER_CONFIRMED_V2: handle_sales_order_confirmed_v2,
    registry.PURCHASE_ORDER_RECEIVED: handle_purchase_order_received,
    registry.PURCHASE_ORDER_RECEIVED_V2: handle_purchase_receipt,
    registry.SALES_ORDER_CANCELLED: handle_sales_order_cancelled,
}


EVENTS_WITH_LINES = frozenset(
    {
        registry.SALES_ORDER_CONFIRMED,
        registry.SALES_ORDER_CONFIRMED_V2,
        registry.PURCHASE_ORDER_RECEIVED,
        registry.PURCHASE_ORDER_RECEIVED_V2,
    }
)


def stock_lock_for_batch(events: Iterable[Event]) -> None:
    """``ERP_EVENTS["BATCH_LOCK"]``: lock the stock rows of a batch's events before any of them is applied."""
    item_ids, cancelled = set(), set()
    for event in events:
        if event.event_type == registry.SALES_ORDER_CANCELLED:
            cancelled.add(event.data.order_id)
        elif event.event_type in EVENTS_WITH_LINES:
            item_ids.update(line.item_id for line in event.data.items)
    stock_rows_lock_for_batch(item_ids=item_ids, cancelled_order_ids=cancelled)


def _actor(event: Event) -> str:
    return f"{event.producer} (event {event.event_id})"


def _checked(lines: Sequence[registry.OrderLine]) -> Sequence[registry.OrderLine]:
    if not lines:
        raise PoisonMessage("the order has no lines")
    for line in lines:
        if line.quantity < 1:
            raise PoisonMessage(f"a line's quantity must be at least 1: {line}")
    return lines
