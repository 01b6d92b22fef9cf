"""Writes of purchase orders: create, replace lines, receipts, receive, close, pay, cancel, vendor names.

Views, admin actions, handlers and seed_demo call exactly these; a transition names its
``actor`` (who asked), kept in the order's status history. Errors are the
envelope's: unknown references -> 400 ``validation``, a transition from the wrong
status -> 409 naming it, a dependency down or slow -> 503/504 before anything is written.

Lock order. A transaction that changes an order locks that one order row
(``SELECT ... FOR UPDATE``) first, then, if it changes them, the order's lines in
ascending id, and only then writes (receipt and receipt lines, the lines, the order,
its status history, its outbox row)::

    PurchaseOrder row -> its PurchaseOrderLine rows (ascending id) -> inserts

No row lock is held across a call to another service (references are checked before
the transaction opens). Every writer of an order's lines holds the order row first, so
two writers of one order's lines are serialised by the order row before either asks
for a line; the line locks (in ascending id) keep a line's ``quantity_received`` read
and its write together even for a writer that someday skips the order lock, and the
database's CHECK ``quantity_received <= quantity`` is the backstop: a line is never
over-received. Only the vendor-name handler holds several orders: one conditional
UPDATE over a vendor's orders, which takes no lock after them; every other transaction
locks one order, so none of them waits for a second order while holding the first,
and no cycle can form.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from common.events import handler_atomic
from order_documents.documents import order_create, order_lines_replace
from order_documents.lines import LineRequest
from order_documents.machine import order_lock, order_touch, transition_apply
from order_documents.parties import party_rename
from order_documents.references import items_recheck, party_fetch, party_recheck

from .events import purchase_order_cancelled_publish, purchase_order_paid_publish, purchase_order_received_publish
from .models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt, PurchaseReceiptLine, VendorVersion
from .receipts import ReceiptRequest, receipt_allocate, received_amount
from .transitions import CANCEL, CLOSE, EDITABLE, PAY, RECEIVE, RECEIVE_PART


def purchase_order_create(
    *, vendor_id: uuid.UUID, lines: Sequence[LineRequest], order_id: uuid.UUID | None = None
) -> PurchaseOrder:
    """Create a draft for ``vendor_id``; vendor and every item checked first, then one transaction.

    ``order_id`` chooses the new order's id (the demo seed, so that a re-run finds its orders).
    """

    def header(*, name: str, version: int | None, total_amount: Decimal) -> PurchaseOrder:
        return PurchaseOrder.objects.create(
            id=order_id or uuid.uuid4(),
            vendor_id=vendor_id,
            vendor_name=name,
            vendor_version=version,
            total_amount=total_amount,
        )

    return order_create(
        versions=VendorVersion,
        party_id=vendor_id,
        party=lambda: vendor_fetch(vendor_id=vendor_id),
        lines=lines,
        line_model=PurchaseOrderLine,
        header=header,
    )


def vendor_fetch(*, vendor_id: uuid.UUID) -> dict:
    """Return the vendor as contact_svc has it; unknown -> 400 naming ``vendor_id``."""
    return party_fetch(path=f"/vendors/{vendor_id}", field="vendor_id", kind="vendor")


def vendor_recheck(*, order_id: uuid.UUID) -> None:
    """Refuse (409 naming ``vendor_id``) to receive for a vendor deleted since the draft was made."""
    vendor_id = PurchaseOrder.objects.filter(pk=order_id).values_list("vendor_id", flat=True).first()
    if vendor_id is not None:  # no such order: the receipt's own 404, in its transaction
        party_recheck(path=f"/vendors/{vendor_id}", field="vendor_id", kind="vendor")


def purchase_order_lines_replace(*, order_id: uuid.UUID, lines: Sequence[LineRequest]) -> PurchaseOrder:
    """Replace a draft's lines; invalid lines, or an order no longer a draft, change nothing."""
    return order_lines_replace(
        model=PurchaseOrder, line_model=PurchaseOrderLine, pk=order_id, lines=lines, editable=EDITABLE
    )


def purchase_order_receipt_create(
    *, order_id: uuid.UUID, items: Sequence[ReceiptRequest], actor: str
) -> PurchaseReceipt:
    """Record what arrived and emit ``purchase.order.received`` v2 with the receipt's lines.

    From Draft or PartiallyReceived (else 409 naming the status); the order becomes
    PartiallyReceived, or Received once every line is complete. An item not on the order
    is a 400 naming ``items.<n>.item_id``, more than a line has open a 409 naming
    ``items.<n>.quantity``, an item inventory no longer has a 409 naming
    ``items.<n>.item_id``, a vendor contact_svc no longer has a 409 naming ``vendor_id``
    (both asked first, before the transaction); each changes nothing.
    """
    on_order = set(_line_items(order_id))  # an entry not on the order is the order's own 400, below
    vendor_recheck(order_id=order_id)
    items_recheck(item_ids=[entry.item_id if entry.item_id in on_order else None for entry in items])
    with transaction.atomic():
        order = order_lock(model=PurchaseOrder, pk=order_id)
        RECEIVE_PART.check(order)
        lines = _lines_lock(order)
        filled = receipt_allocate(lines=lines, requests=items)
        return _receipt_write(order=order, lines=lines, filled=filled, actor=actor)


def purchase_order_receive(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    """Receive everything still open as one receipt: the order becomes Received (the original's ``receive``).

    contact_svc and inventory are asked first, before the transaction, whether they still
    have the vendor and every item of the order: one they lack is a 409 naming ``vendor_id``
    or ``items.<n>.item_id`` and changes nothing.
    """
    vendor_recheck(order_id=order_id)
    items_recheck(item_ids=_line_items(order_id))
    return _order_receive(order_id=order_id, actor=actor)


def _line_items(order_id: uuid.UUID) -> list[uuid.UUID]:
    """The items of the order's lines in their order, read without a lock (for the question to inventory)."""
    return list(
        PurchaseOrderLine.objects.filter(order_id=order_id).order_by("position").values_list("item_id", flat=True)
    )


@transaction.atomic
def _order_receive(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    order = order_lock(model=PurchaseOrder, pk=order_id)
    RECEIVE.check(order)
    lines = _lines_lock(order)
    filled = {line: line.quantity_open for line in lines if line.quantity_open}
    _receipt_write(order=order, lines=lines, filled=filled, actor=actor)
    return order


def _lines_lock(order: PurchaseOrder) -> list[PurchaseOrderLine]:
    """Lock the locked ``order``'s lines in ascending id (the lock order) and return them."""
    return list(PurchaseOrderLine.objects.select_for_update().filter(order=order).order_by("id"))


def _receipt_write(
    *, order: PurchaseOrder, lines: list[PurchaseOrderLine], filled: dict[PurchaseOrderLine, int], actor: str
) -> PurchaseReceipt:
    """Write the receipt of ``filled`` (line -> units) onto the locked order and lines, and its event."""
    now = timezone.now()
    receipt = PurchaseReceipt.objects.create(order=order, actor=actor, created_at=now)
    filled_lines = sorted(filled.items(), key=lambda entry: entry[0].position)
    PurchaseReceiptLine.objects.bulk_create(
        PurchaseReceiptLine(receipt=receipt, line=line, item_id=line.item_id, quantity=quantity)
        for line, quantity in filled_lines
    )
    for line, quantity in filled_lines:
        line.quantity_received += quantity
    PurchaseOrderLine.objects.bulk_update([line for line, _ in filled_lines], ["quantity_received"])
    amount = received_amount(lines)
    transition = RECEIVE if all(line.quantity_open == 0 for line in lines) else RECEIVE_PART
    if order.status == transition.target:  # a further part: no change of status to record
        order.received_amount = amount
        order_touch(order, fields=["received_amount"])
    else:
        transition_apply(order=order, transition=transition, actor=actor, received_amount=amount)
    purchase_order_received_publish(order=order, receipt=receipt, filled=filled_lines)
    return receipt


@transaction.atomic
def purchase_order_close(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    """Close a partially received order short: it becomes Received, what is still open no longer expected.

    No event: inventory has had every receipt, and nothing else follows the order's status.
    """
    order = order_lock(model=PurchaseOrder, pk=order_id)
    return transition_apply(order=order, transition=CLOSE, actor=actor, closed_short=True)


@transaction.atomic
def purchase_order_pay(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    """Mark a received order paid and emit ``purchase.order.paid`` v2 (the amount paid is what was received)."""
    order = transition_apply(order=order_lock(model=PurchaseOrder, pk=order_id), transition=PAY, actor=actor)
    purchase_order_paid_publish(order=order)
    return order


@transaction.atomic
def purchase_order_cancel(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    """Cancel a draft and emit ``purchase.order.cancelled`` (nothing was received)."""
    order = transition_apply(order=order_lock(model=PurchaseOrder, pk=order_id), transition=CANCEL, actor=actor)
    purchase_order_cancelled_publish(order=order)
    return order


@handler_atomic
def purchase_receipt_stock_refused(*, order_id: uuid.UUID, receipt_id: uuid.UUID) -> bool:
    """Mark the receipt and its order as refused by inventory (the first time only); return whether it was new.

    Two conditional UPDATEs, the order row first (the lock order above); a redelivery changes nothing.
    """
    now = timezone.now()
    PurchaseOrder.objects.filter(pk=order_id, stock_refused_at__isnull=True).update(stock_refused_at=now)
    marked = PurchaseReceipt.objects.filter(pk=receipt_id, order_id=order_id, stock_refused_at__isnull=True)
    return marked.update(stock_refused_at=now) > 0


def purchase_order_vendor_rename(*, vendor_id: uuid.UUID, name: str, version: int) -> int:
    """Copy a vendor's newer name onto its orders (one conditional UPDATE); return how many changed.

    The version is also remembered for the vendor, for orders created later (order_documents.parties).
    """
    return party_rename(
        versions=VendorVersion,
        orders=PurchaseOrder.objects.filter(vendor_id=vendor_id),
        party_id=vendor_id,
        name=name,
        version=version,
        name_field="vendor_name",
        version_field="vendor_version",
    )
