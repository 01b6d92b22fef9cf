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
from collections.abc import Iterable, Mapping
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
    and ``Stock.backordered`` are written here; the caller writes each fill's movement
    (``stock_movements_apply``, the one writer of stock) and then reports the orders
    (:func:`orders_progress_publish`).
    """
    fills: list[Fill] = []
    now = timezone.now()
    for item_id in sorted(set(item_ids)):
        stock = stocks[item_id]
        on_hand = stock.quantity
        if on_hand <= 0 or stock.backordered <= 0:
            continue
        queue = Backorder.objects.filter(item_id=item_id, quantity_open__gt=0).order_by("confirmed_at", "order_id")
        for backorder in queue:
            quantity = min(backorder.quantity_open, on_hand)
            backorder.quantity_open -= quantity
            backorder.fills += 1
            backorder.updated_at = now
            backorder.save(update_fields=["quantity_open", "fills", "updated_at"])
            fills.append(Fill(order_id=backorder.order_id, item_id=item_id, quantity=quantity, number=backorder.fills))
            on_hand -= quantity
            if on_hand == 0:
                break
        _backordered_add(stocks, {item_id: on_hand - stock.quantity})
    return fills


def orders_progress_publish(*, order_ids: Iterable[uuid.UUID], returned: uuid.UUID | None = None) -> None:
    """Bump the version of each order's stock and tell sales where it stands (call last in the transaction).

    ``inventory.stock.filled`` for each filled order; ``returned`` (a cancelled order)
    gets ``inventory.stock.returned`` with what was given back instead. The version rows are
    locked in ascending order id (see the module's docstring).
    """
    wanted = set(order_ids) | ({returned} if returned else set())
    if not wanted:
        return
    records = list(SalesOrderIssue.objects.select_for_update().filter(order_id__in=wanted).order_by("order_id"))
    if returned and not any(record.order_id == returned for record in records):
        # An order issued before decisions had versions: its give-back is version 2, as it always was.
        events.stock_returned_publish(order_id=returned, movements=_given_back(returned), version=2)
    for record in records:
        record.version += 1
        if record.order_id == returned:
            record.cancelled_at = timezone.now()
            record.save(update_fields=["version", "cancelled_at"])
            events.stock_returned_publish(
                order_id=record.order_id, movements=_given_back(record.order_id), version=record.version
            )
        else:
            record.save(update_fields=["version"])
            items = order_progress(order_id=record.order_id)
            events.stock_progress_publish(
                registry.STOCK_FILLED, order_id=record.order_id, items=items, version=record.version
            )


def order_progress(*, order_id: uuid.UUID) -> list[registry.StockProgressLine]:
    """Return the order's cumulative figures per item: issued (the ledger) and still backordered."""
    issued = dict(
        StockMovement.objects.filter(reference=order_id, reason=MovementReason.SALES_ISSUE)
        .values("item_id")
        .annotate(total=Sum("change"))
        .values_list("item_id", "total")
    )
    waiting = dict(Backorder.objects.filter(order_id=order_id).values_list("item_id", "quantity_open"))
    return [
        registry.StockProgressLine(
            item_id=item_id, quantity_issued=-issued.get(item_id, 0), quantity_backordered=waiting.get(item_id, 0)
        )
        for item_id in sorted(issued.keys() | waiting.keys())
    ]


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
