"""Backorders: what confirmed sales orders still wait for, filled first come, first served as stock rises.

Called by :mod:`inventory.services` inside the transaction that holds the stock rows
locked (the lock order there): a backorder of an item is written only under its item's
stock row lock, so the queue of an item has one writer at a time and its rows need no
lock of their own. ``Stock.backordered`` moves with the rows, so it is their sum by
construction (``check_backorders`` proves it).

A fill runs in the transaction of the rise (a receipt, an upward adjustment, a
cancellation's give-back), right after its movement: the stock that came in is issued
to the oldest confirmations at once, so stock never sits on hand while an order waits
for it. Each fill is a ``sales_issue`` movement naming the order and numbered ``fill``.

What sales is told: the order's cumulative figures per item (issued so far, still
backordered) under the version of its :class:`~inventory.models.SalesOrderIssue` row,
which grows with every event about the order. A consumer that keeps only a newer
version is right whatever is redelivered or overtaken. The version rows of several
orders are locked last, in ascending order id, after every stock row: two fills of
overlapping orders wait for each other but never deadlock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from common.events import registry

from . import events
from .models import Backorder, MovementReason, SalesOrderIssue, Stock, StockMovement


def backorders_open(
    *, order_id: uuid.UUID, quantities: Mapping[uuid.UUID, int], confirmed_at: dt.datetime, stocks: Mapping
) -> None:
    """Record what ``order_id`` waits for, per item, at the back of each item's queue (stocks locked)."""
    now = timezone.now()
    Backorder.objects.bulk_create(
        Backorder(
            order_id=order_id,
            item_id=item_id,
            confirmed_at=confirmed_at,
            quantity=quantity,
            quantity_open=quantity,
            created_at=now,
            updated_at=now,
        )
        for item_id, quantity in sorted(quantities.items())
    )
    _backordered_add(stocks, {item_id: quantity for item_id, quantity in quantities.items()})


def backorders_drop(*, order_id: uuid.UUID, stocks: Mapping) -> dict[uuid.UUID, int]:
    """Drop what a cancelled order still waits for (its items' stocks locked); return it per item."""
    now = timezone.now()
    dropped: dict[uuid.UUID, int] = {}
    rows = list(Backorder.objects.filter(order_id=order_id, quantity_open__gt=0).order_by("item_id"))
    for row in rows:
        dropped[row.item_id] = row.quantity_open
        row.quantity_dropped += row.quantity_open
        row.quantity_open = 0
        row.updated_at = now
    Backorder.objects.bulk_update(rows, ["quantity_dropped", "quantity_open", "updated_at"])
    _backordered_add(stocks, {item_id: -quantity for item_id, quantity in dropped.items()})
    return dropped


@dataclass(frozen=True)
class Fill:
    """``quantity`` of ``item_id`` to issue to ``order_id``: its backorder's fill number ``number``."""

    order_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int
    number: int


def backorders_fill(*, item_ids: Iterable[uuid.UUID], stocks: Mapping) -> list[Fill]:
    """Take what is on hand of ``item_ids`` off their open backorders, oldest confirmation first.

    ``stocks`` are the locked rows (every item of ``item_ids`` among them). The backorders
    and ``Stock.backordered`` are written here; the caller writes the fills' movements
    (``stock_movements_apply``'s writer, the one writer of stock) and then reports the orders
    (:func:`orders_progress_publish`).
    """
    on_hand = {
        item_id: stocks[item_id].quantity
        for item_id in sorted(set(item_ids))
        if stocks[item_id].quantity > 0 and stocks[item_id].backordered > 0
    }
    if not on_hand:
        return []
    # Every queue at once (one SELECT, one UPDATE whatever the number of items): item by item, oldest first.
    queues = Backorder.objects.filter(item_id__in=on_hand, quantity_open__gt=0).order_by(
        "item_id", "confirmed_at", "order_id"
    )
    fills: list[Fill] = []
    filled: list[Backorder] = []
    now = timezone.now()
    for backorder in queues:
        quantity = min(backorder.quantity_open, on_hand[backorder.item_id])
        if quantity == 0:
            continue  # what came in of this item is taken: the rest of its queue waits
        backorder.quantity_open -= quantity
        backorder.fills += 1
        backorder.updated_at = now
        filled.append(backorder)
        fill = Fill(order_id=backorder.order_id, item_id=backorder.item_id, quantity=quantity, number=backorder.fills)
        fills.append(fill)
        on_hand[backorder.item_id] -= quantity
    Backorder.objects.bulk_update(filled, ["quantity_open", "fills", "updated_at"])
    _backordered_add(stocks, {item_id: left - stocks[item_id].quantity for item_id, left in on_hand.items()})
    return fills


def orders_progress_publish(*, order_ids: Iterable[uuid.UUID], returned: uuid.UUID | None = None) -> None:
    """Bump the version of each order's stock and tell sales where it stands (call last in the transaction).

    ``inventory.stock.filled`` for each filled order; ``returned`` (a cancelled order)
    gets ``inventory.stock.returned`` with what was given back instead. The version rows are
    locked in ascending order id (see the module's docstring). The same statements however
    many orders: their rows locked, bumped in one UPDATE, their figures read, their events written.
    """
    wanted = set(order_ids) | ({returned} if returned else set())
    if not wanted:
        return
    records = list(SalesOrderIssue.objects.select_for_update().filter(order_id__in=wanted).order_by("order_id"))
    if returned and not any(record.order_id == returned for record in records):
        # An order issued before decisions had versions: its give-back is version 2, as it always was.
        events.publish([events.stock_returned_event(order_id=returned, movements=_given_back(returned), version=2)])
    now = timezone.now()
    for record in records:
        record.version += 1
        if record.order_id == returned:
            record.cancelled_at = now
    SalesOrderIssue.objects.bulk_update(records, ["version", "cancelled_at"])
    progress = orders_progress(order_ids=[record.order_id for record in records if record.order_id != returned])
    events.publish(
        events.stock_returned_event(order_id=returned, movements=_given_back(returned), version=record.version)
        if record.order_id == returned
        else events.stock_progress_event(
            registry.STOCK_FILLED, order_id=record.order_id, items=progress[record.order_id], version=record.version
        )
        for record in records
    )


def orders_progress(*, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[registry.StockProgressLine]]:
    """Return each order's cumulative figures per item: issued (the ledger) and still backordered (two queries)."""
    if not order_ids:
        return {}
    issued: dict[uuid.UUID, dict[uuid.UUID, int]] = {order_id: {} for order_id in order_ids}
    rows = (
        StockMovement.objects.filter(reference__in=order_ids, reason=MovementReason.SALES_ISSUE)
        .values("reference", "item_id")
        .annotate(total=Sum("change"))
        .values_list("reference", "item_id", "total")
    )
    for order_id, item_id, total in rows:
        issued[order_id][item_id] = -total
    waiting: dict[uuid.UUID, dict[uuid.UUID, int]] = {order_id: {} for order_id in order_ids}
    for order_id, item_id, quantity in Backorder.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "item_id", "quantity_open"
    ):
        waiting[order_id][item_id] = quantity
    return {
        order_id: [
            registry.StockProgressLine(
                item_id=item_id,
                quantity_issued=issued[order_id].get(item_id, 0),
                quantity_backordered=waiting[order_id].get(item_id, 0),
            )
            for item_id in sorted(issued[order_id].keys() | waiting[order_id].keys())
        ]
        for order_id in order_ids
    }


def _given_back(order_id: uuid.UUID) -> list[StockMovement]:
    return list(
        StockMovement.objects.filter(reference=order_id, reason=MovementReason.SALES_CANCELLATION).order_by("item_id")
    )


def _backordered_add(stocks: Mapping, changes: Mapping[uuid.UUID, int]) -> None:
    changed: list[Stock] = []
    for item_id, change in changes.items():
        if change:
            stocks[item_id].backordered += change
            # The stock events' aggregate version: inventory.stock.low carries backordered too.
            stocks[item_id].version += 1
            changed.append(stocks[item_id])
    if changed:
        Stock.objects.bulk_update(changed, ["backordered", "version"])
