"""Writes of purchase orders: create, replace lines, receive, pay, cancel, vendor names.

Views, admin actions, handlers and seed_demo call exactly these; a transition names its
``actor`` (who asked), kept in the order's status history. Errors are the
envelope's: unknown references -> 400 ``validation``, a transition from the wrong
status -> 409 naming it, a dependency down or slow -> 503/504 before anything is written.

Lock order. A transaction that changes an order locks that one order row
(``SELECT ... FOR UPDATE``) first and then writes its lines and its outbox row; no
transaction locks two orders, and no row lock is held across a call to another
service (references are checked before the transaction opens). The vendor-name
handler writes with one conditional UPDATE per order row, the same single lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction

from order_documents.documents import order_create, order_lines_replace
from order_documents.lines import LineRequest
from order_documents.machine import order_lock, transition_apply
from order_documents.parties import party_rename
from order_documents.references import party_fetch

from .events import purchase_order_cancelled_publish, purchase_order_paid_publish, purchase_order_received_publish
from .models import PurchaseOrder, PurchaseOrderLine, VendorVersion
from .transitions import CANCEL, EDITABLE, PAY, RECEIVE


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


def purchase_order_lines_replace(*, order_id: uuid.UUID, lines: Sequence[LineRequest]) -> PurchaseOrder:
    """Replace a draft's lines; invalid lines, or an order no longer a draft, change nothing."""
    return order_lines_replace(
        model=PurchaseOrder, line_model=PurchaseOrderLine, pk=order_id, lines=lines, editable=EDITABLE
    )


@transaction.atomic
def purchase_order_receive(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    """Mark a draft received and emit ``purchase.order.received`` (inventory adds the stock)."""
    order = transition_apply(order=order_lock(model=PurchaseOrder, pk=order_id), transition=RECEIVE, actor=actor)
    purchase_order_received_publish(order=order)
    return order


@transaction.atomic
def purchase_order_pay(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    """Mark a received order paid and emit ``purchase.order.paid``."""
    order = transition_apply(order=order_lock(model=PurchaseOrder, pk=order_id), transition=PAY, actor=actor)
    purchase_order_paid_publish(order=order)
    return order


@transaction.atomic
def purchase_order_cancel(*, order_id: uuid.UUID, actor: str) -> PurchaseOrder:
    """Cancel a draft and emit ``purchase.order.cancelled`` (nothing was received)."""
    order = transition_apply(order=order_lock(model=PurchaseOrder, pk=order_id), transition=CANCEL, actor=actor)
    purchase_order_cancelled_publish(order=order)
    return order


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
