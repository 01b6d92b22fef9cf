"""Replenishment: a low-stock event adds what the item needs to its preferred vendor's replenishment draft.

``needed = max_level + backordered - on_hand - on_order``, where ``on_order`` is the item's
open quantity (ordered - received) on this service's Draft and PartiallyReceived orders
(a cancelled order, or one closed short, expects nothing). A positive need is rounded up to
the preferred vendor item's pack size, raised to its minimum order quantity, and added at
its unit cost to the vendor's one open Draft of origin replenishment (a line of the item
grows rather than repeats). Nothing is counted from the event as an increment: the need is
recomputed from the rows every time, so a redelivered, duplicated or overtaken event finds
its own earlier line in ``on_order`` and orders nothing twice.

Lock order (purchasing.services states the orders' own)::

    LowStockItem row (the item) -> the vendor's replenishment draft -> its lines (ascending id)

The item's row serialises every event of one item (and keeps its newest figures: an older
``stock_version`` changes nothing). The draft row serialises the items of one vendor; the
partial unique index on ``vendor_id`` of open replenishment drafts is the database's
guarantee that two consumers creating it at once end with one (the second's insert waits for
the first's and then conflicts, and it locks the first's draft instead). A person's edit,
receipt or cancel of the draft locks the same order row, so it runs before or after, whole.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from common.money import quantize_money
from order_documents.lines import MAX_AMOUNT
from order_documents.machine import order_touch
from order_documents.models import MAX_LINES, MAX_QUANTITY

from .models import LowStockItem, PurchaseOrder, PurchaseOrderLine, VendorItem
from .selectors import item_on_order

logger = logging.getLogger(__name__)

Origin, Status = PurchaseOrder.Origin, PurchaseOrder.Status


@dataclass(frozen=True)
class StockFigures:
    """What ``inventory.stock.low`` says of an item, under the stock's version."""

    item_id: uuid.UUID
    sku: str
    quantity: int
    backordered: int
    reorder_level: int
    max_level: int
    version: int


def order_quantity(*, needed: int, pack_size: int, min_order_quantity: int) -> int:
    """Round ``needed`` up to whole packs, then raise it to the minimum order quantity."""
    return max(math.ceil(needed / pack_size) * pack_size, min_order_quantity)


def replenishment_needed(*, figures: StockFigures) -> int:
    """Return what the item needs beyond what is on order now (<= 0: nothing)."""
    return figures.max_level + figures.backordered - figures.quantity - item_on_order(item_id=figures.item_id)


@transaction.atomic
def replenishment_apply(*, figures: StockFigures) -> PurchaseOrderLine | None:
    """Order what the item needs from its preferred vendor; return the line written, or None.

    None when the figures are older than ones already applied, the item has no max level,
    nothing is needed, or no vendor item is preferred (the item is then listed by
    :func:`~purchasing.selectors.replenishment_need_list`).
    """
    if not _figures_remember(figures) or figures.max_level <= 0:
        return None
    vendor_item = VendorItem.objects.filter(item_id=figures.item_id, preferred=True).first()
    if vendor_item is None or replenishment_needed(figures=figures) <= 0:
        return None
    draft, created = _draft_lock(vendor_item)
    # Again under the draft's lock: a person may have changed the draft meanwhile.
    needed = replenishment_needed(figures=figures)
    if needed <= 0:
        if created:
            draft.delete()  # never seen by anyone: no empty draft is left behind
        return None
    quantity = order_quantity(
        needed=needed, pack_size=vendor_item.pack_size, min_order_quantity=vendor_item.min_order_quantity
    )
    line = _line_add(draft=draft, vendor_item=vendor_item, quantity=quantity)
    if line is None and created:
        draft.delete()
    return line


def _figures_remember(figures: StockFigures) -> bool:
    """Lock the item's row and keep ``figures`` there; False if newer ones were applied before."""
    values = {
        "sku": figures.sku,
        "quantity": figures.quantity,
        "backordered": figures.backordered,
        "reorder_level": figures.reorder_level,
        "max_level": figures.max_level,
        "stock_version": figures.version,
    }
    # INSERT ... ON CONFLICT DO NOTHING, then the lock: two first events of one item meet on the key.
    LowStockItem.objects.bulk_create([LowStockItem(item_id=figures.item_id, **values)], ignore_conflicts=True)
    row = LowStockItem.objects.select_for_update().get(item_id=figures.item_id)
    if row.stock_version > figures.version:
        return False
    for field, value in values.items():
        setattr(row, field, value)
    row.save()
    return True


def _draft_lock(vendor_item: VendorItem) -> tuple[PurchaseOrder, bool]:
    """Lock the vendor's open replenishment draft, creating it if there is none; True if created here."""
    drafts = PurchaseOrder.objects.select_for_update().filter(
        vendor_id=vendor_item.vendor_id, status=Status.DRAFT, origin=Origin.REPLENISHMENT
    )
    # Twice at most: an insert that conflicts means another transaction committed the draft, which
    # the next look finds (unless a person moved it out of Draft in between; then insert again).
    for _ in range(3):
        draft = drafts.first()
        if draft is not None:
            return draft, False
        new_id = uuid.uuid4()
        PurchaseOrder.objects.bulk_create(
            [
                PurchaseOrder(
                    id=new_id,
                    vendor_id=vendor_item.vendor_id,
                    vendor_name=vendor_item.vendor_name,
                    vendor_version=vendor_item.vendor_version,
                    origin=Origin.REPLENISHMENT,
                )
            ],
            ignore_conflicts=True,
        )
        draft = PurchaseOrder.objects.select_for_update().filter(pk=new_id).first()
        if draft is not None:
            return draft, True
    raise RuntimeError(f"no replenishment draft could be locked for vendor {vendor_item.vendor_id}")


def _line_add(*, draft: PurchaseOrder, vendor_item: VendorItem, quantity: int) -> PurchaseOrderLine | None:
    """Add ``quantity`` of the vendor item to the locked draft: its line grows, or a new line is appended.

    Within what a person's order may hold (CONTRACT §5): no line past MAX_QUANTITY units or
    MAX_AMOUNT, no total past MAX_AMOUNT, no line past MAX_LINES. What does not fit is cut to
    whole packs that do (a huge max level, pack size or cost would otherwise overflow a column
    and send the event to the dead letters, or leave a draft nobody can save); None if nothing fits.
    """
    lines = list(PurchaseOrderLine.objects.select_for_update().filter(order=draft).order_by("id"))
    line = min(
        (line for line in lines if line.item_id == vendor_item.item_id), key=lambda line: line.position, default=None
    )
    room = MAX_QUANTITY - (0 if line is None else line.quantity)
    if vendor_item.unit_cost > 0:
        total = sum((each.subtotal for each in lines), Decimal(0))
        room = min(room, int((MAX_AMOUNT - total) // vendor_item.unit_cost))
    fits = min(quantity, room // vendor_item.pack_size * vendor_item.pack_size)
    refused = fits <= 0 or (line is None and (fits < vendor_item.min_order_quantity or len(lines) >= MAX_LINES))
    if refused or fits < quantity:
        logger.warning(
            "replenishment of %s from vendor %s: %s needed, %s fit on draft %s",
            vendor_item.sku,
            vendor_item.vendor_id,
            quantity,
            0 if refused else fits,
            draft.id,
        )
    if refused:
        return None
    quantity = fits
    if line is None:
        position = max((each.position for each in lines), default=None)  # every line of the draft, locked above
        line = PurchaseOrderLine(
            order=draft,
            position=0 if position is None else position + 1,
            item_id=vendor_item.item_id,
            sku=vendor_item.sku,
            name=vendor_item.item_name,
            quantity=0,
            unit_price=vendor_item.unit_cost,
        )
        lines.append(line)
    line.quantity += quantity
    line.subtotal = quantize_money(line.unit_price * line.quantity)
    line.save()
    draft.total_amount = quantize_money(sum(line.subtotal for line in lines))
    order_touch(draft, fields=["total_amount"])
    return line
