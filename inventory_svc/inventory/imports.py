"""Items in and out as CSV (contract §5): the import, keyed by SKU, with stock counts; the export.

An import is all or nothing. Every cell is checked first, by the API's own serializer fields,
and every problem is reported at once (``rows.<line>.<column>``); then, in one transaction,
new items go through :func:`item_create_many`, changed ones through :func:`item_update_many`,
and a ``quantity`` becomes one ``adjustment`` of the difference through :func:`stock_adjust`,
its note naming the import: the rows and events one-by-one entry would have written. A dry run
runs exactly that and rolls it back, so it answers what the import would do.

An empty cell means "not given": a new item takes the API's default for it (``unit_price`` 0),
an existing one keeps its value, and an empty ``quantity`` leaves the stock alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from rest_framework import serializers

from common.csvfiles import CsvRow, Problems, cells_validated, csv_rows, csv_stream, duplicate_keys, require_column
from common.exceptions import Forbidden

from .api.serializers import ItemSerializer
from .models import SKU_MAX_LENGTH, Item, Stock, normalize_sku, sku_is_visible
from .services import MAX_QUANTITY, item_create_many, item_update_many, stock_adjust

COLUMNS = ("sku", "name", "description", "unit_price", "reorder_level", "max_level", "quantity")
ITEM_FIELDS = COLUMNS[:-1]
# Items per stock_adjust call: its stock rows are locked, updated and written in one go each.
ADJUST_BATCH_SIZE = 1000
NEW_ITEM_DEFAULTS = {"unit_price": 0}


@dataclass(frozen=True)
class ImportResult:
    import_id: uuid.UUID
    created: int
    updated: int
    unchanged: int
    stock_adjusted: int
    dry_run: bool


@dataclass(frozen=True)
class _Row:
    line: int
    sku: str
    data: dict[str, Any]  # the item fields given (not empty), validated
    quantity: int | None


def _cell_fields() -> dict[str, serializers.Field]:
    """The API's own field of each column: one home for what a valid cell is."""
    fields = dict(ItemSerializer().fields)
    fields["quantity"] = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    return {column: fields[column] for column in COLUMNS}


def _rows_checked(rows: list[CsvRow]) -> list[_Row]:
    fields, problems = _cell_fields(), Problems()
    require_column(rows, "sku")
    checked = []
    for row in rows:
        values = cells_validated(row, fields=fields, key="sku", problems=problems)
        if "sku" in values:
            values["sku"] = normalize_sku(values["sku"])
            if not sku_is_visible(values["sku"]):
                problems.add(f"rows.{row.line}.sku", "A SKU may contain only visible characters and spaces.")
            if len(values["sku"]) > SKU_MAX_LENGTH:  # NFKC can lengthen it (a ligature, U+FDFA)
                message = f"Ensure this field has no more than {SKU_MAX_LENGTH} characters once normalised."
                problems.add(f"rows.{row.line}.sku", message)
        quantity = values.pop("quantity", None)
        checked.append(_Row(line=row.line, sku=values.pop("sku", ""), data=values, quantity=quantity))
    duplicate_keys(rows, column="sku", key=normalize_sku, problems=problems)
    problems.raise_any()
    return checked


def item_import(*, data: bytes, actor: str, dry_run: bool = False, may_adjust: bool = True) -> ImportResult:
    """Import a CSV file of items (see the module docstring): all rows or none; a dry run writes nothing.

    ``may_adjust``: whether the caller may adjust stock; if not, a file that gives a ``quantity``
    is refused (403) before anything is written.
    """
    rows = _rows_checked(csv_rows(data, columns=COLUMNS))
    if not may_adjust and any(row.quantity is not None for row in rows):
        raise Forbidden(
            "Your role does not allow stock adjustments: leave the quantity column out or empty.",
            details=[{"field": "quantity", "message": "Setting stock needs the stock.adjust permission."}],
        )
    import_id = uuid.uuid4()
    with transaction.atomic():
        result = _apply(rows, import_id=import_id, actor=actor, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _apply(rows: list[_Row], *, import_id: uuid.UUID, actor: str, dry_run: bool) -> ImportResult:
    existing = dict(Item.objects.filter(sku__in=[row.sku for row in rows]).values_list("sku", "pk"))
    # The lock order (services): the stock rows first, ascending item id, then the item rows.
    on_hand = dict(
        Stock.objects.select_for_update(of=("self",))
        .filter(item_id__in=existing.values())
        .order_by("item_id")
        .values_list("item_id", "quantity")
    )
    new_rows = [row for row in rows if row.sku not in existing]
    problems = Problems()
    for row in new_rows:
        if "name" not in row.data:
            problems.add(f"rows.{row.line}.name", "Required for a new item.")
    problems.raise_any()
    created = item_create_many(rows=[{**NEW_ITEM_DEFAULTS, **row.data, "sku": row.sku} for row in new_rows])
    ids = {**existing, **{item.sku: item.pk for item in created}}
    changed = item_update_many(data_by_id={existing[row.sku]: row.data for row in rows if row.sku in existing})
    changes = {
        ids[row.sku]: row.quantity - on_hand.get(ids[row.sku], 0)
        for row in rows
        if row.quantity is not None and row.quantity != on_hand.get(ids[row.sku], 0)
    }
    ordered = sorted(changes)  # ascending item id across the batches too (the lock order)
    for start in range(0, len(ordered), ADJUST_BATCH_SIZE):
        batch = ordered[start : start + ADJUST_BATCH_SIZE]
        stock_adjust(changes={item_id: changes[item_id] for item_id in batch}, actor=actor, note=f"import {import_id}")
    return ImportResult(
        import_id=import_id,
        created=len(created),
        updated=len(changed),
        unchanged=len(existing) - len(changed),
        stock_adjusted=len(changes),
        dry_run=dry_run,
    )


def item_export(*, items: Iterable[Item]) -> Iterator[bytes]:
    """Yield the CSV file of ``items`` (annotated with ``quantity``), which imported back changes nothing."""
    return csv_stream(columns=COLUMNS, rows=(_cells(item) for item in items))


def _cells(item: Item) -> list[str]:
    return [
        item.sku,
        item.name,
        item.description,
        str(item.unit_price),
        str(item.reorder_level),
        str(item.max_level),
        str(item.quantity),
    ]
