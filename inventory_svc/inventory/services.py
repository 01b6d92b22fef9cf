"""Writes of the inventory domain: items, and every change of stock on hand.

Views, event handlers, the admin and the seed command call exactly one of these.
Errors are raised as common's exceptions, which the envelope handler maps (contract §2):
``ValidationFailed`` (a model check, from Django's ``ValidationError``) -> 400, ``NotFound``
-> 404, ``Conflict`` (a duplicate SKU, stock below zero, deleting an item still in use) -> 409.

Stock on hand has ONE writer, :func:`stock_movements_apply` (the fills of backorders, a
movement per order, go through its :func:`_movements_write`): it locks the stock rows,
refuses a change that would take any of them below zero, and writes the movements and
the new quantities together, so the ledger equals the stock by construction.
Everything else that moves stock (adjustments, receipts, issues, give-backs) is a thin
function around it. Whatever raises stock (a receipt, an upward adjustment, a give-back)
fills the item's open backorders in the same transaction (:mod:`inventory.backorders`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from common.db import changes_assign, rows_update, unique_conflict
from common.events import handler_atomic, registry
from common.exceptions import Conflict, InsufficientStock, NotFound, ValidationFailed
from common.uses import Users, delete_refuse_if_used

from . import backorders, events
from .lines import Line, ShortLine, quantities_by_item
from .models import (
    SKU_UNIQUE,
    Backorder,
    IssueOutcome,
    Item,
    MovementReason,
    SalesOrderIssue,
    Stock,
    StockMovement,
    normalize_sku,
)

# Lock order. Every transaction that moves stock locks ALL the Stock rows it will touch
# in one statement, in ascending item id (SELECT ... FOR UPDATE ORDER BY item_id), before
# it reads a quantity or writes a movement:
#
#   Stock rows (ascending item_id) -> [SalesOrderIssue rows (ascending order_id)] -> [Item row]
#
# (bracketed steps only where they apply: a sales issue records its decision after the
# stock rows; a fill or give-back bumps the version of the orders it reports, last, in
# ascending order id; an item deletion, and an update of an item's price, reorder level or
# activity, lock its item row after its stock row). Backorder
# rows take no lock of their own: one is written only under its item's stock row lock. Because every
# writer takes the stock rows in the same global order, two transactions touching
# overlapping items in whatever order their lines came can wait for each other but can
# never deadlock. Inserting a movement takes a KEY SHARE lock on its Item row (the foreign
# key): that is why a deletion, or an update that refreshes the stock row's summary figures
# (Stock.summary_refresh), locks the stock row *before* the item row; any other item update
# locks only its item row. The items the stock rows are locked with are read after the lock
# (:func:`_stocks_lock`), so a movement computes those figures from the item as it now is. Quantities are read only
# under the lock, so a check ("enough on hand?") and its write cannot be split by
# another writer; idempotency checks by order ("already issued?") are made under the
# same locks, the unique constraints on (item, reason, reference) for a sales order and
# (item, reference, receipt) for a purchase receipt being the backstop.

# The largest quantity the integer column holds: a change past it is refused, not a crash.
MAX_QUANTITY = 2**31 - 1
EDITABLE_FIELDS = frozenset({"sku", "name", "description", "unit_price", "reorder_level", "max_level", "active"})
# Rows per multi-row INSERT/UPDATE of the *_many functions: a batch's parameters stay well under
# the databases' limits.
BULK_BATCH_SIZE = 1000


class WholeAndPartsReceived(Exception):
    """A purchase order's stock was to be received both whole (v1) and receipt by receipt (v2).

    An order is received one way or the other: purchase_svc publishes v1 only for orders
    received whole before receipts existed (their receipt is named by the order's id), and
    v2 only for receipts of its own. Applying both would count the same goods twice.
    """

    def __init__(self, order_id: uuid.UUID, receipt_id: uuid.UUID):
        self.order_id, self.receipt_id = order_id, receipt_id
        kind = "whole" if receipt_id == order_id else f"receipt {receipt_id}"
        other = "by receipts" if receipt_id == order_id else "whole"
        super().__init__(f"purchase order {order_id} ({kind}) was already received {other}")


class UnknownItems(Exception):
    """Stock was to be moved for items that do not exist (an event naming a deleted item)."""

    def __init__(self, item_ids: Iterable[uuid.UUID]):
        self.item_ids = sorted(item_ids)
        super().__init__(f"unknown items: {', '.join(map(str, self.item_ids))}")


# ---------------------------------------------------------------- items


@transaction.atomic
def item_create(
    *,
    sku: str,
    name: str,
    unit_price: Decimal,
    description: str = "",
    reorder_level: int = 0,
    max_level: int = 0,
    active: bool = True,
) -> Item:
    """Create an item and its stock at 0 in one transaction."""
    item = _item_new(
        sku=sku,
        name=name,
        unit_price=unit_price,
        description=description,
        reorder_level=reorder_level,
        max_level=max_level,
        active=active,
    )
    _item_save(item)
    Stock.objects.create(**_stock_new(item))
    item.quantity = item.backordered = 0
    return item


@transaction.atomic
def item_create_many(*, rows: Sequence[Mapping[str, Any]]) -> list[Item]:
    """Create many items, each with its stock at 0, as :func:`item_create` would one by one (the imports).

    The same checks, in a few multi-row INSERTs instead of two per item. A duplicate SKU (even a
    concurrent one) is a 409 and nothing is created. Inserted (and returned) in SKU order: each
    new SKU holds its unique index entry until the commit, so two imports inserting the same new
    SKUs in different orders would each wait for an entry the other holds (a deadlock); in one
    order, the second waits for the first and gets its 409.
    """
    items = sorted((_item_new(**row) for row in rows), key=lambda item: item.sku)
    for item in items:
        _item_validate(item)
    with unique_conflict(*SKU_UNIQUE, field="sku", message="An item with this SKU already exists."):
        Item.objects.bulk_create(items, batch_size=BULK_BATCH_SIZE)
    Stock.objects.bulk_create([Stock(**_stock_new(item)) for item in items], batch_size=BULK_BATCH_SIZE)
    for item in items:
        item.quantity = item.backordered = 0
    return items


def _stock_new(item: Item) -> dict[str, Any]:
    """The new item's stock row: nothing on hand, with the summary figures of nothing on hand."""
    stock = Stock(item=item, quantity=0)
    stock.summary_refresh(item)
    return {"item": item, "quantity": 0, **{field: getattr(stock, field) for field in Stock.SUMMARY_FIELDS}}


def _item_new(
    *,
    sku: str,
    name: str,
    unit_price: Decimal,
    description: str = "",
    reorder_level: int = 0,
    max_level: int = 0,
    active: bool = True,
) -> Item:
    return Item(
        sku=normalize_sku(sku),
        name=name,
        description=description,
        unit_price=unit_price,
        reorder_level=reorder_level,
        max_level=max_level,
        active=active,
    )


@transaction.atomic
def item_update(*, item: Item, data: Mapping[str, Any]) -> Item:
    """Set the fields in ``data`` (PUT passes all, PATCH some) and return the saved item.

    The item row is locked and re-read first; an update that changes nothing writes
    nothing. Data naming the unit price, reorder level or activity locks the item's stock
    row first (the lock order above) and refreshes its summary figures with the item.
    """
    stocks = _stocks_lock([item.pk]) if Stock.SUMMARY_SOURCES & set(data) else {}
    locked = Item.objects.select_for_update().filter(pk=item.pk).first()
    if locked is None:  # deleted since the caller read it
        raise NotFound()
    if _item_change(locked, data):
        _item_save(locked)
        _stock_summaries_refresh(stocks, {locked.pk: locked})
    locked.quantity, locked.backordered = Stock.objects.values_list("quantity", "backordered").get(item_id=locked.pk)
    return locked


@transaction.atomic
def item_update_many(*, data_by_id: Mapping[uuid.UUID, Mapping[str, Any]]) -> list[Item]:
    """Update many items as :func:`item_update` would one by one (the imports); return those that changed.

    The item rows are locked in ascending id, in one statement (after their stock rows when the
    data names a field of their summary figures); items that change are validated as one update
    would validate them and written in a few multi-row UPDATEs, their stock rows' figures too.
    An item deleted since the caller read it is a 404 and nothing changes.
    """
    summary_changes = any(Stock.SUMMARY_SOURCES & set(data) for data in data_by_id.values())
    stocks = _stocks_lock(data_by_id) if summary_changes else {}
    locked = Item.objects.select_for_update().filter(pk__in=list(data_by_id)).order_by("pk")
    found = {item.pk: item for item in locked}
    if len(found) != len(data_by_id):
        raise NotFound()
    now = timezone.now()
    changed = [item for item_id, item in found.items() if _item_change(item, data_by_id[item_id])]
    for item in changed:
        _item_validate(item)
        item.updated_at = now  # what auto_now sets on save(); bulk_update does not
    fields = sorted({field for data in data_by_id.values() for field in data} | {"updated_at"})
    with unique_conflict(*SKU_UNIQUE, field="sku", message="An item with this SKU already exists."):
        rows_update(Item, changed, fields, batch_size=BULK_BATCH_SIZE)
    _stock_summaries_refresh(stocks, {item.pk: item for item in changed})
    return changed


def _item_change(item: Item, data: Mapping[str, Any]) -> bool:
    """Set the fields in ``data`` on ``item``; False (and nothing set) if none of them differs."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    return changes_assign(item, {field: normalize_sku(v) if field == "sku" else v for field, v in data.items()})


def item_delete(*, item: Item) -> None:
    """Delete an item no order uses, with no stock on hand and no ledger; otherwise 409 and nothing changes.

    An item on a sales or purchase order that is not cancelled is kept (archive it instead):
    the order may still be confirmed or received, and its stock would have nowhere to go.
    sales_svc and purchase_svc are asked first, outside the transaction; if either cannot
    answer, the item is kept (503). An item with movements is kept too: its ledger is the
    record of what was received and issued, and a sales order issued from it may still be
    cancelled and given back.
    """
    delete_refuse_if_used(
        what="item",
        users=[Users(service, f"/internal/items/{item.pk}/orders") for service in ("sales", "purchase")],
    )
    _item_delete_unused(item=item)


def _stock_summaries_refresh(stocks: Mapping[uuid.UUID, Stock], items: Mapping[uuid.UUID, Item]) -> int:
    """Refresh the summary figures of the locked ``stocks`` of ``items`` that changed, in ascending item id.

    An update that named none of the figures' sources locked no stock row: nothing to refresh.
    """
    refreshed = [
        stocks[item_id]
        for item_id in sorted(items.keys() & stocks.keys())
        if stocks[item_id].summary_refresh(items[item_id])
    ]
    rows_update(Stock, refreshed, Stock.SUMMARY_FIELDS, batch_size=BULK_BATCH_SIZE)
    return len(refreshed)


@transaction.atomic
def stock_summaries_repair(*, item_ids: Iterable[uuid.UUID]) -> int:
    """Recompute the summary figures of the stock rows of ``item_ids``; return how many were wrong.

    What ``check_stock_ledger --repair`` does with the rows it found: rows the release before the
    figures moved while a deploy rolled (docs/upgrading.md). Under the stock rows' locks, in the
    lock order, from the items as they are once locked.
    """
    stocks = _stocks_lock(item_ids)
    return _stock_summaries_refresh(stocks, {item_id: stock.item for item_id, stock in stocks.items()})


@transaction.atomic
def _item_delete_unused(*, item: Item) -> None:
    stock = _stocks_lock([item.pk]).get(item.pk)
    if stock is None:
        raise NotFound()
    if stock.quantity > 0:
        message = f"The item has {stock.quantity} units on hand."
        raise Conflict(message, details=[{"field": "quantity", "message": message}])
    if StockMovement.objects.filter(item_id=item.pk).exists():
        message = "The item has stock movements; its ledger is kept."
        raise Conflict(message, details=[{"field": "movements", "message": message}])
    if Backorder.objects.filter(item_id=item.pk).exists():
        # Only before its first movement: an item confirmed orders wait for, never stocked yet.
        message = "Confirmed orders wait for the item (backorders)."
        raise Conflict(message, details=[{"field": "backordered", "message": message}])
    Item.objects.select_for_update().get(pk=item.pk).delete()  # its stock row goes with it


def _item_save(item: Item) -> None:
    """Validate and save, turning a duplicate SKU (even a concurrent one) into a 409."""
    _item_validate(item)
    with unique_conflict(*SKU_UNIQUE, field="sku", message="An item with this SKU already exists."):
        item.save()


def _item_validate(item: Item) -> None:
    # Constraints are left to the database: checking them here too would cost a query
    # and still race; the field checks catch callers that skip the serializer.
    try:
        item.full_clean(validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from None


# ---------------------------------------------------------------- stock: the one writer


def _stocks_lock(item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Stock]:
    """Lock the stock rows of ``item_ids`` in ascending item id (the lock order) and return them.

    Unknown items are simply absent. Their items (SKU, price, reorder level) are read by a
    second query, after the locks, without locking the item rows: a query that joined them
    would keep the item as it was before it waited for a lock, and a change of the price,
    reorder level or activity holds the stock row's lock until it commits.
    """
    rows = list(Stock.objects.select_for_update().filter(item_id__in=set(item_ids)).order_by("item_id"))
    items = Item.objects.in_bulk([stock.item_id for stock in rows])
    for stock in rows:
        stock.item = items[stock.item_id]
    return {stock.item_id: stock for stock in rows}


def stock_rows_lock_for_batch(*, item_ids: Iterable[uuid.UUID], cancelled_order_ids: Iterable[uuid.UUID]) -> None:
    """Lock, in one statement and the lock order, every stock row a batch of events will move.

    The consumer's ``BATCH_LOCK`` (``common.events.consumer``): the events of a batch share
    one transaction, so each one's locks would otherwise pile up in the batch's order, not
    the global one, and two consumers' batches could deadlock. ``item_ids`` are the items
    the batch's lines name; a cancelled order's items are those it was issued or waits for
    (an order confirmed in the same batch: its lines are among ``item_ids`` already).
    What cannot be locked ahead: the orders' rows that fills and give-backs bump (the lock
    order's second step), taken event after event, and the items of a cancelled order whose
    issue another consumer commits after this statement. Two batches may then deadlock:
    PostgreSQL aborts one, which rolls back whole and has its events applied one by one
    (the consumer's fallback; common/tests/events/test_batches.py provokes such a deadlock).
    """
    ids = set(item_ids)
    cancelled = set(cancelled_order_ids)
    if cancelled:
        issued = StockMovement.objects.filter(reference__in=cancelled, reason=MovementReason.SALES_ISSUE)
        ids.update(issued.values_list("item_id", flat=True))
        ids.update(Backorder.objects.filter(order_id__in=cancelled).values_list("item_id", flat=True))
    if ids:
        list(Stock.objects.select_for_update().filter(item_id__in=ids).order_by("item_id").values_list("pk"))


@dataclass(frozen=True)
class Move:
    """One movement to write: ``change`` of ``item_id`` for ``reference`` (its backorder's ``fill`` number, if one)."""

    item_id: uuid.UUID
    change: int
    reference: uuid.UUID | None
    fill: int | None = None


def stock_movements_apply(
    *,
    changes: Mapping[uuid.UUID, int],
    reason: MovementReason,
    actor: str,
    reference: uuid.UUID | None = None,
    receipt_id: uuid.UUID | None = None,
    note: str = "",
    stocks: Mapping[uuid.UUID, Stock] | None = None,
) -> list[StockMovement]:
    """Apply signed ``changes`` per item, all or none, and return the movements written.

    The only writer of ``Stock.quantity``. Must run inside ``transaction.atomic()``.
    ``stocks`` are rows the caller already locked with :func:`_stocks_lock` (it needed
    to look at them first); otherwise they are locked here. Raises ``UnknownItems``
    for an item without stock, ``InsufficientStock`` (nothing written) when a change
    would take any item below zero. Emits ``inventory.stock.low`` for every item that
    goes from above its reorder level to at or below it (a confirmation that backorders
    an item already there emits it too: :func:`_issue_or_backorder`).
    """
    # Written in the lock order (ascending item id) too.
    moves = [Move(item_id=item_id, change=changes[item_id], reference=reference) for item_id in sorted(changes)]
    return _movements_write(moves, reason=reason, actor=actor, receipt_id=receipt_id, note=note, stocks=stocks)


def _movements_write(
    moves: Sequence[Move],
    *,
    reason: MovementReason,
    actor: str,
    receipt_id: uuid.UUID | None = None,
    note: str = "",
    stocks: Mapping[uuid.UUID, Stock] | None = None,
) -> list[StockMovement]:
    """:func:`stock_movements_apply`'s writes, for ``moves`` in their order (an item may move more than once, one way).

    A fixed number of statements however many moves: the stock rows in one UPDATE, the movements
    in one INSERT, the low-stock events in one (with the state of each item when it crossed its reorder level).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock_movements_apply must run inside transaction.atomic()")
    if any(move.change == 0 for move in moves):
        raise ValueError("a stock movement changes the quantity")
    changes: dict[uuid.UUID, int] = {}
    for move in moves:
        so_far = changes.get(move.item_id, 0)
        if so_far * move.change < 0:
            # An item's moves go one way (a receipt's fills all take), so the net change checked below
            # is also every step's: none passes below zero or above the maximum midway.
            raise ValueError("an item's movements in one write go the same way")
        changes[move.item_id] = so_far + move.change
    locked = stocks if stocks is not None else _stocks_lock(changes)
    unknown = set(changes) - set(locked)
    if unknown:
        raise UnknownItems(unknown)
    short = [
        {"item_id": item_id, "requested": -change, "available": locked[item_id].quantity, "field": "quantity"}
        for item_id, change in changes.items()
        if locked[item_id].quantity + change < 0
    ]
    if short:
        raise InsufficientStock(short)
    too_many = [item_id for item_id, change in changes.items() if locked[item_id].quantity + change > MAX_QUANTITY]
    if too_many:
        message = f"Stock on hand cannot exceed {MAX_QUANTITY}."
        raise Conflict(
            message, details=[{"field": "quantity", "message": f"Item {item_id}: {message}"} for item_id in too_many]
        )

    now = timezone.now()
    movements, lows = [], []
    moved: Counter[uuid.UUID] = Counter()  # each item's movements so far in this call
    for move in moves:
        stock = locked[move.item_id]
        before, stock.quantity = stock.quantity, stock.quantity + move.change
        stock.version += 1
        stock.updated_at = now
        stock.summary_refresh(stock.item)
        movements.append(
            StockMovement(
                item_id=move.item_id,
                change=move.change,
                quantity_after=stock.quantity,
                reason=reason,
                reference=move.reference,
                receipt_id=receipt_id,
                fill=move.fill,
                note=note,
                actor=actor,
                # The ledger lists by (created_at, id) and ids are random: an item moving more than once
                # here (fills of several orders) keeps its movements in the order their quantity_after
                # follows, a microsecond apart.
                created_at=now + dt.timedelta(microseconds=moved[move.item_id]),
            )
        )
        moved[move.item_id] += 1
        if before > stock.item.reorder_level >= stock.quantity:
            lows.append(events.stock_low_event(stock=stock))
    events.publish(lows)
    fields = ["quantity", "version", "updated_at", *Stock.SUMMARY_FIELDS]
    rows_update(Stock, [locked[item_id] for item_id in sorted(changes)], fields)
    StockMovement.objects.bulk_create(movements)
    return movements


@transaction.atomic
def stock_adjust(*, changes: Mapping[uuid.UUID, int], actor: str, note: str = "") -> list[StockMovement]:
    """Adjust stock by hand (API, admin, seeding): signed changes, all or none.

    Raises ``NotFound`` for an item that does not exist, ``InsufficientStock`` (409,
    nothing written) when a change would take stock below zero. What an upward change
    brings fills the item's open backorders at once.
    """
    stocks = _stocks_lock(changes)
    try:
        movements = stock_movements_apply(
            changes=changes, reason=MovementReason.ADJUSTMENT, actor=actor, note=note, stocks=stocks
        )
    except UnknownItems:
        raise NotFound() from None
    _backorders_fill(
        item_ids=[item_id for item_id, change in changes.items() if change > 0], stocks=stocks, actor=actor
    )
    return movements


@handler_atomic
def stock_issue_for_order(
    *,
    order_id: uuid.UUID,
    lines: Iterable[Line],
    actor: str,
    allow_backorder: bool = False,
    confirmed_at: dt.datetime | None = None,
) -> IssueOutcome | None:
    """Issue every line of a confirmed sales order, or none of them if any is short.

    Publishes ``inventory.stock.issued`` or ``inventory.stock.shortage`` (naming every
    short line; an unknown item counts as none available) and returns the outcome; None
    if this order was decided before (a redelivery under another event id), in which
    case nothing is written or published. With ``allow_backorder``, what is short waits
    as backorders instead (:func:`_issue_or_backorder`), queued by ``confirmed_at``.
    """
    wanted = quantities_by_item(lines)
    stocks = _stocks_lock(wanted)
    # An item that no longer exists can never arrive, and a wait past what an item's queue can count cannot be
    # recorded: such an order is short, backorders or not (a handler failing for good would leave it pending).
    if allow_backorder and _backorders_fit(wanted=wanted, stocks=stocks):
        return _issue_or_backorder(
            order_id=order_id, wanted=wanted, stocks=stocks, actor=actor, confirmed_at=confirmed_at or timezone.now()
        )
    short = [
        ShortLine(item_id=item_id, requested=quantity, available=stocks[item_id].quantity if item_id in stocks else 0)
        for item_id, quantity in wanted.items()
        if item_id not in stocks or stocks[item_id].quantity < quantity
    ]
    if not _issue_decision_record(order_id=order_id, outcome=IssueOutcome.SHORT if short else IssueOutcome.ISSUED):
        return None
    if short:
        events.stock_shortage_publish(order_id=order_id, short=short)
        return IssueOutcome.SHORT
    movements = stock_movements_apply(
        changes={item_id: -quantity for item_id, quantity in wanted.items()},
        reason=MovementReason.SALES_ISSUE,
        reference=order_id,
        actor=actor,
        stocks=stocks,
    )
    events.stock_issued_publish(order_id=order_id, movements=movements)
    return IssueOutcome.ISSUED


def _backorders_fit(*, wanted: Mapping[uuid.UUID, int], stocks: Mapping) -> bool:
    """Whether every item exists and its ``backordered`` still fits the column once this order's wait is added."""
    return all(
        item_id in stocks
        and stocks[item_id].backordered + quantity - min(quantity, stocks[item_id].quantity) <= MAX_QUANTITY
        for item_id, quantity in wanted.items()
    )


def _issue_or_backorder(
    *, order_id: uuid.UUID, wanted: Mapping[uuid.UUID, int], stocks: Mapping, actor: str, confirmed_at: dt.datetime
) -> IssueOutcome | None:
    """Issue what is on hand of each item and backorder the rest (the stock rows are locked).

    On hand is taken only when no order waits for the item (a rise fills the queue at
    once, so stock on hand means an empty queue): a later confirmation never overtakes
    an earlier one. Publishes ``inventory.stock.issued`` when nothing had to wait, else
    ``inventory.stock.backordered`` with the order's figures.
    """
    issue = {item_id: min(quantity, stocks[item_id].quantity) for item_id, quantity in wanted.items()}
    waiting = {item_id: quantity - issue[item_id] for item_id, quantity in wanted.items() if quantity > issue[item_id]}
    outcome = IssueOutcome.BACKORDERED if waiting else IssueOutcome.ISSUED
    if not _issue_decision_record(order_id=order_id, outcome=outcome):
        return None
    on_hand_before = {item_id: stocks[item_id].quantity for item_id in waiting}
    if waiting:
        # Opened before the issue's movements, so that an item the issue takes to its reorder
        # level is announced (inventory.stock.low) with what now waits for it.
        backorders.backorders_open(order_id=order_id, quantities=waiting, confirmed_at=confirmed_at, stocks=stocks)
    movements = []
    if any(issue.values()):
        movements = stock_movements_apply(
            changes={item_id: -quantity for item_id, quantity in issue.items() if quantity},
            reason=MovementReason.SALES_ISSUE,
            reference=order_id,
            actor=actor,
            stocks=stocks,
        )
    if not waiting:
        events.stock_issued_publish(order_id=order_id, movements=movements)
        return outcome
    # Already at or below its reorder level, the item crossed nothing, yet it needs more now.
    lows = [
        events.stock_low_event(stock=stocks[item_id])
        for item_id in sorted(waiting)
        if on_hand_before[item_id] <= stocks[item_id].item.reorder_level
    ]
    backordered = events.stock_progress_event(
        registry.STOCK_BACKORDERED,
        order_id=order_id,
        items=backorders.orders_progress(order_ids=[order_id])[order_id],
        version=events.ORDER_DECIDED_VERSION,
    )
    events.publish([*lows, backordered])
    return outcome


def _backorders_fill(
    *, item_ids: Iterable[uuid.UUID], stocks: Mapping, actor: str, returned: uuid.UUID | None = None
) -> None:
    """Fill the open backorders of ``item_ids`` from what is on hand, and report the orders filled.

    ``returned``, a cancelled order whose give-back brought the stock, is reported in the
    same pass (its version row is locked in order with the others').
    """
    fills = backorders.backorders_fill(item_ids=item_ids, stocks=stocks)
    if fills:
        moves = [
            Move(item_id=fill.item_id, change=-fill.quantity, reference=fill.order_id, fill=fill.number)
            for fill in fills
        ]
        _movements_write(moves, reason=MovementReason.SALES_ISSUE, actor=actor, stocks=stocks)
    backorders.orders_progress_publish(order_ids={fill.order_id for fill in fills}, returned=returned)


def _issue_decision_record(*, order_id: uuid.UUID, outcome: IssueOutcome) -> bool:
    """Record the order's decision; False if it was decided before (nothing is written then).

    One ``INSERT ... ON CONFLICT DO NOTHING`` instead of a look-up and an insert: a
    concurrent delivery of the same order already waits on the stock locks, and where
    it locked none (every item unknown) it waits on the primary key until the first
    commits, then finds the conflict.
    """
    connection = transaction.get_connection()
    table = connection.ops.quote_name(SalesOrderIssue._meta.db_table)
    order_field = SalesOrderIssue._meta.get_field("order_id")
    decided_field = SalesOrderIssue._meta.get_field("decided_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (order_id, outcome, decided_at, version) VALUES (%s, %s, %s, %s) "  # noqa: S608 (names from the model)
            "ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
            [
                order_field.get_db_prep_value(order_id, connection),
                str(outcome),
                decided_field.get_db_prep_value(timezone.now(), connection),
                events.ORDER_DECIDED_VERSION,
            ],
        )
        return cursor.fetchone() is not None


@transaction.atomic
def stock_receive_for_receipt(
    *, order_id: uuid.UUID, receipt_id: uuid.UUID, lines: Iterable[Line], actor: str
) -> list[StockMovement]:
    """Receive one receipt of a purchase order: each item once, whatever is redelivered or raced.

    The movements name the order (``reference``) and the receipt (``receipt_id``). An item this
    receipt already moved is skipped (checked under the stock lock, the unique constraint
    on (item, order, receipt) the backstop), so a redelivery writes nothing. Raises
    ``UnknownItems`` (nothing written) when a line names an item that does not exist:
    stock cannot be received into nothing, so the event is dead-lettered for an operator;
    and ``WholeAndPartsReceived`` (nothing written) for a receipt of the whole order (named
    by the order's id) when the order has receipts of its own, or the other way round.
    """
    wanted = quantities_by_item(lines)
    stocks = _stocks_lock(wanted)
    moved = StockMovement.objects.filter(reference=order_id, reason=MovementReason.PURCHASE_RECEIPT)
    done, others = set(), set()
    for moved_receipt, item_id in moved.values_list("receipt_id", "item_id"):
        if moved_receipt == receipt_id:
            done.add(item_id)
        else:
            others.add(moved_receipt)
    if others and (receipt_id == order_id or order_id in others):
        raise WholeAndPartsReceived(order_id, receipt_id)
    changes = {item_id: quantity for item_id, quantity in wanted.items() if item_id not in done}
    if not changes:
        return []
    movements = stock_movements_apply(
        changes=changes,
        reason=MovementReason.PURCHASE_RECEIPT,
        reference=order_id,
        receipt_id=receipt_id,
        actor=actor,
        stocks=stocks,
    )
    _backorders_fill(item_ids=changes, stocks=stocks, actor=actor)
    return movements


def stock_receive_for_order(*, order_id: uuid.UUID, lines: Iterable[Line], actor: str) -> list[StockMovement]:
    """Receive a whole purchase order at once (``purchase.order.received`` v1), once.

    One receipt of the whole order, named by the order's own id: the id purchase_svc gave
    the receipt of every order received whole before receipts existed.
    """
    return stock_receive_for_receipt(order_id=order_id, receipt_id=order_id, lines=lines, actor=actor)


@handler_atomic
def stock_return_for_order(*, order_id: uuid.UUID, actor: str) -> list[StockMovement]:
    """Drop a cancelled sales order's open backorders and give back exactly what the ledger issued for it, once.

    What comes back fills the next waiting orders at once. Publishes
    ``inventory.stock.returned`` (with no lines when the order had only waited).
    Nothing is written or published if the order had nothing issued nor waiting, or if
    it was given back before.
    """
    # The order's items are fixed once it is decided, so they are read before the locks; how
    # much was issued of each is not (a fill may be committing): it is read under them.
    item_ids = set(_issued_to(order_id)) | set(
        Backorder.objects.filter(order_id=order_id).values_list("item_id", flat=True)
    )
    if not item_ids:
        return []
    stocks = _stocks_lock(item_ids)
    issued = _issued_to(order_id)
    if (
        SalesOrderIssue.objects.filter(order_id=order_id, cancelled_at__isnull=False).exists()
        or StockMovement.objects.filter(reference=order_id, reason=MovementReason.SALES_CANCELLATION).exists()
    ):
        return []
    backorders.backorders_drop(order_id=order_id, stocks=stocks)
    movements = []
    if issued:
        movements = stock_movements_apply(
            changes=issued, reason=MovementReason.SALES_CANCELLATION, reference=order_id, actor=actor, stocks=stocks
        )
    _backorders_fill(item_ids=issued, stocks=stocks, actor=actor, returned=order_id)
    return movements


def _issued_to(order_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Return what the ledger issued to a sales order per item: at its confirmation and every fill since."""
    rows = (
        StockMovement.objects.filter(reference=order_id, reason=MovementReason.SALES_ISSUE)
        .values("item_id")
        .annotate(total=Sum("change"))
        .values_list("item_id", "total")
    )
    return {item_id: -total for item_id, total in rows}
