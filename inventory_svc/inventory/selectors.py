"""Reads of items, stock, the ledger and backorders, for the API, the admin and the management commands."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from common.exceptions import NotFound
from common.money import MoneyField

from .lines import Line, PendingLine, ShortLine, quantities_by_item
from .models import Backorder, Item, MovementReason, SalesOrderIssue, Stock, StockMovement, stock_summary_figures


def item_list() -> QuerySet[Item]:
    """Return the items with their ``quantity`` on hand and ``backordered``, newest first (the API pages this)."""
    return Item.objects.annotate(quantity=F("stock__quantity"), backordered=F("stock__backordered")).order_by(
        "-created_at", "-id"
    )


def item_list_by_ids(*, ids: Iterable[uuid.UUID]) -> list[Item]:
    """Return the items among ``ids``, in the order asked, leaving out unknown ids."""
    wanted = list(dict.fromkeys(ids))
    found = Item.objects.in_bulk(wanted)
    return [found[item_id] for item_id in wanted if item_id in found]


def stock_get(*, item: Item) -> Stock:
    stock = Stock.objects.filter(item_id=item.pk).first()
    if stock is None:  # the item was deleted since the caller read it
        raise NotFound()
    return stock


def movement_list(*, item: Item) -> QuerySet[StockMovement]:
    """Return the item's ledger, newest first."""
    return StockMovement.objects.filter(item_id=item.pk).order_by("-created_at", "-id")


@dataclass(frozen=True)
class Availability:
    available: bool
    short: list[ShortLine]
    unknown: list[uuid.UUID]  # items asked about that inventory does not have (deleted): short too, with 0


def stock_availability(*, lines: Iterable[Line], pending: Iterable[PendingLine] = ()) -> Availability:
    """Say whether every line could be issued now, and which items are short by how much.

    Quantities of the same item are added up, as an issue would; an unknown item counts
    as none available, and is named in ``unknown`` too, which the caller refuses as gone
    rather than short (every item has its stock row: the stock read finds the items too).
    ``pending`` are the lines of orders sales confirmed and has not heard back about: those
    inventory has not decided yet (no ``SalesOrderIssue``) claim their stock before
    ``lines``; one decided already is in the stock on hand, and is not counted twice. A read
    without locks: the issue itself decides (all or none).
    """
    wanted = quantities_by_item(lines)
    pending = [line for line in pending if line.item_id in wanted]
    on_hand, decided = _stock_and_decisions(item_ids=wanted.keys(), order_ids={line.order_id for line in pending})
    claimed = quantities_by_item(line for line in pending if line.order_id not in decided)
    left = {item_id: max(0, on_hand.get(item_id, 0) - claimed.get(item_id, 0)) for item_id in wanted}
    short = [
        ShortLine(item_id=item_id, requested=quantity, available=left[item_id])
        for item_id, quantity in wanted.items()
        if left[item_id] < quantity
    ]
    return Availability(
        available=not short, short=short, unknown=[item_id for item_id in wanted if item_id not in on_hand]
    )


# Which half of _stock_and_decisions' statement a row comes from: an id alone cannot tell a stock row from a decision.
_STOCK_ROW, _DECISION_ROW = 1, 2


def _stock_and_decisions(
    *, item_ids: Iterable[uuid.UUID], order_ids: Iterable[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], set[uuid.UUID]]:
    """Return the stock on hand of ``item_ids`` and which of ``order_ids`` inventory has decided, read in one statement.

    One statement sees one snapshot (PostgreSQL's READ COMMITTED takes one per statement; on
    SQLite a read holds its snapshot, and no lock a writer waits on, until it is done), so an
    order decided while this runs is in both halves or in neither: its stock is never counted
    twice, as two reads either side of its commit would. Two reads would need a REPEATABLE READ
    transaction around them: begin, set its level, two reads and commit, four more round trips.

    Written in SQL: on PostgreSQL the ids go as two arrays, so the statement's text is the same
    whatever the number of items and orders, and it is prepared once per connection (an ``IN``
    list makes a text, and a prepared statement, per pair of lengths: psycopg keeps 100 per
    connection, and these would push the service's others out). The ORM writes only ``IN``
    lists, and building this query with it cost this process six to eight times what PostgreSQL spent.
    """
    stock, decision = Stock._meta, SalesOrderIssue._meta
    item, order = stock.get_field("item"), decision.get_field("order_id")
    items_match, item_params = _any_of(item, item_ids)
    orders_match, order_params = _any_of(order, order_ids)
    name = connection.ops.quote_name
    statement = (
        f"SELECT {_STOCK_ROW}, {name(item.column)}, {name(stock.get_field('quantity').column)}"  # noqa: S608 (names from the models)
        f" FROM {name(stock.db_table)} WHERE {name(item.column)} {items_match}"
        f" UNION ALL SELECT {_DECISION_ROW}, {name(order.column)}, 0"
        f" FROM {name(decision.db_table)} WHERE {name(order.column)} {orders_match}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*item_params, *order_params])
        rows = cursor.fetchall()
    on_hand, decided = {}, set()
    for row, key, quantity in rows:
        if row == _STOCK_ROW:
            on_hand[item.to_python(key)] = quantity
        else:
            decided.add(order.to_python(key))
    return on_hand, decided


def _any_of(field, values: Iterable[uuid.UUID]) -> tuple[str, list]:
    """The condition "``field`` is one of ``values``" and its parameters: one array on PostgreSQL, a list elsewhere."""
    values = [field.get_db_prep_value(value, connection) for value in values]
    if connection.vendor == "postgresql":
        return "= ANY(%s::uuid[])", [values]
    return f"IN ({', '.join(['%s'] * len(values))})", values


@dataclass(frozen=True)
class LedgerDiscrepancy:
    item_id: uuid.UUID
    sku: str
    on_hand: int
    ledger: int


def stock_ledger_discrepancies() -> list[LedgerDiscrepancy]:
    """Return every item whose stock on hand differs from the sum of its movements."""
    rows = (
        Stock.objects.annotate(ledger=Coalesce(Sum("item__movements__change"), 0))
        .exclude(quantity=F("ledger"))
        .order_by("item__sku")
        .values_list("item_id", "item__sku", "quantity", "ledger")
    )
    return [
        LedgerDiscrepancy(item_id=item_id, sku=sku, on_hand=on_hand, ledger=ledger)
        for item_id, sku, on_hand, ledger in rows
    ]


@dataclass(frozen=True)
class SummaryDiscrepancy:
    item_id: uuid.UUID
    sku: str
    kept: tuple[int | None, Decimal | None]
    expected: tuple[int | None, Decimal]


def stock_summary_discrepancies() -> list[SummaryDiscrepancy]:
    """Return every stock row whose summary figures differ from those of its on hand and item, recomputed."""
    rows = Stock.objects.order_by("item__sku").values_list(
        "item_id",
        "item__sku",
        "reorder_shortfall",
        "value",
        "quantity",
        "item__reorder_level",
        "item__active",
        "item__unit_price",
    )
    found = []
    for item_id, sku, shortfall, value, quantity, reorder_level, active, unit_price in rows.iterator(chunk_size=5000):
        expected = stock_summary_figures(
            quantity=quantity, reorder_level=reorder_level, active=active, unit_price=unit_price
        )
        if (shortfall, value) != expected:
            found.append(SummaryDiscrepancy(item_id=item_id, sku=sku, kept=(shortfall, value), expected=expected))
    return found


def purchase_receipt_ledger() -> dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], int]:
    """Return what the ledger received per ``(order, receipt, item)`` (one query)."""
    rows = (
        StockMovement.objects.filter(reason=MovementReason.PURCHASE_RECEIPT)
        .values("reference", "receipt_id", "item_id")
        .annotate(quantity=Sum("change"))
        .values_list("reference", "receipt_id", "item_id", "quantity")
    )
    return {(order_id, receipt_id, item_id): quantity for order_id, receipt_id, item_id, quantity in rows}


@dataclass(frozen=True)
class OrderItemStock:
    """What inventory holds of one sales order's item: issued (the ledger), given back, waiting, dropped."""

    issued: int = 0
    given_back: int = 0
    open: int = 0
    dropped: int = 0


def sales_order_stock() -> dict[tuple[uuid.UUID, uuid.UUID], OrderItemStock]:
    """Return, per ``(sales order, item)``, what the ledger issued and gave back and what its backorder holds."""
    figures: dict[tuple[uuid.UUID, uuid.UUID], dict[str, int]] = {}
    moved = (
        StockMovement.objects.filter(reason__in=(MovementReason.SALES_ISSUE, MovementReason.SALES_CANCELLATION))
        .values("reference", "item_id", "reason")
        .annotate(total=Sum("change"))
        .values_list("reference", "item_id", "reason", "total")
    )
    for order_id, item_id, reason, total in moved:
        field = "issued" if reason == MovementReason.SALES_ISSUE else "given_back"
        figures.setdefault((order_id, item_id), {})[field] = abs(total)
    for order_id, item_id, quantity_open, dropped in Backorder.objects.values_list(
        "order_id", "item_id", "quantity_open", "quantity_dropped"
    ):
        figures.setdefault((order_id, item_id), {}).update(open=quantity_open, dropped=dropped)
    return {key: OrderItemStock(**values) for key, values in figures.items()}


def backorder_discrepancies() -> list[str]:
    """Return what breaks the backorder invariants inside inventory, one sentence each (empty: none).

    An item's ``backordered`` is the sum of its open backorders; no item has stock on hand
    while an order waits for it; what each backorder filled is the sum of its fill
    movements, one per fill.
    """
    problems = []
    open_by_item = dict(
        Backorder.objects.values("item_id").annotate(total=Sum("quantity_open")).values_list("item_id", "total")
    )
    for item_id, sku, on_hand, backordered in Stock.objects.order_by("item__sku").values_list(
        "item_id", "item__sku", "quantity", "backordered"
    ):
        if backordered != open_by_item.get(item_id, 0):
            problems.append(
                f"{sku} ({item_id}): backordered {backordered}, open backorders {open_by_item.get(item_id, 0)}"
            )
        if on_hand > 0 and backordered > 0:
            problems.append(f"{sku} ({item_id}): {on_hand} on hand while orders wait for {backordered}")
    fills = {
        (order_id, item_id): (-total, count)
        for order_id, item_id, total, count in StockMovement.objects.filter(fill__isnull=False)
        .values("reference", "item_id")
        .annotate(total=Sum("change"), count=Count("id"))
        .values_list("reference", "item_id", "total", "count")
    }
    for backorder in Backorder.objects.order_by("confirmed_at", "order_id", "item_id"):
        filled, count = fills.pop((backorder.order_id, backorder.item_id), (0, 0))
        if (filled, count) != (backorder.quantity_filled, backorder.fills):
            problems.append(
                f"backorder of order {backorder.order_id} item {backorder.item_id}: filled "
                f"{backorder.quantity_filled} in {backorder.fills} fill(s), ledger {filled} in {count}"
            )
    problems += [f"order {order_id} item {item_id}: fills without a backorder" for order_id, item_id in fills]
    return problems


# How many rows the back office's home lists under each of its counts (contract §5, ``/items/summary``).
SUMMARY_ROWS = 10


def item_stock_summary() -> dict:
    """Return what the back office's home shows of stock: items to buy next, backorders, stock value.

    Read from the figures each stock row keeps of itself (``Stock.reorder_shortfall`` and
    ``Stock.value``, see :class:`~inventory.models.Stock`), so no query joins every item to its
    stock: one pass over the narrow stock rows alone counts the active items at or below their
    reorder level and adds up the value on hand (sum of on hand x unit price, every item: an
    archived item's stock is still worth its price); the partial index of the rows at or below
    their level gives the ``SUMMARY_ROWS`` furthest below, each joined to its item; the open
    backorders are read from the partial index of open ones, added up and grouped by order.
    """
    at_or_below = Stock.objects.filter(reorder_shortfall__isnull=False)
    furthest_below = at_or_below.order_by("-reorder_shortfall", "item__sku").values(
        "quantity",
        id=F("item_id"),
        sku=F("item__sku"),
        name=F("item__name"),
        reorder_level=F("item__reorder_level"),
        shortfall=F("reorder_shortfall"),
    )[:SUMMARY_ROWS]
    totals = Stock.objects.aggregate(
        below=Count("pk", filter=Q(reorder_shortfall__isnull=False)),
        value=Coalesce(Sum("value"), Value(Decimal("0")), output_field=MoneyField()),
    )
    return {
        "below_reorder_level": {"count": totals["below"], "furthest_below": list(furthest_below)},
        "backorders": backorder_summary(),
        "stock_value": totals["value"],
    }


def backorder_summary() -> dict:
    """Return the units and orders waiting on open backorders, and the orders waiting longest, oldest first."""
    open_backorders = Backorder.objects.filter(quantity_open__gt=0)
    by_order = (
        open_backorders.values("order_id")
        .annotate(confirmed_at=Min("confirmed_at"), units=Sum("quantity_open"), items=Count("item_id"))
        .order_by("confirmed_at", "order_id")
    )
    # One pass for both totals: the units, and the orders (an order waits once whatever its items).
    totals = open_backorders.aggregate(units=Coalesce(Sum("quantity_open"), 0), orders=Count("order_id", distinct=True))
    return {"units": totals["units"], "orders": totals["orders"], "oldest": list(by_order[:SUMMARY_ROWS])}
