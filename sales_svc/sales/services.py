"""Writes of sales orders: create, replace lines, confirm, pay, cancel, and inventory's answers.

Views, admin actions, handlers and seed_demo call exactly these; a transition names its
``actor`` (who asked), kept in the order's status history. Errors are the
envelope's: unknown references -> 400 ``validation``, a transition from the wrong
status -> 409 naming it (``InvalidTransition``), short stock -> 409 (``InsufficientStock``),
a dependency down or slow -> 503/504 before anything is written.

Lock order. A transaction that changes an order locks that one order row
(``SELECT ... FOR UPDATE``) first and then writes its lines and its outbox row; no
transaction locks two orders, and no row lock is held across a call to another
service (references and availability are checked before the transaction opens; the
lines are compared again under the lock). Event handlers write with
one conditional UPDATE of the order row, or lock that one row and then write its lines
(inventory's figures), so they take the same single lock.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import F, Sum, prefetch_related_objects
from django.utils import timezone

from common.events import handler_atomic
from common.exceptions import Conflict, InsufficientStock, UpstreamUnavailable
from order_documents.documents import order_create, order_lines_replace, party_beside
from order_documents.lines import LineRequest
from order_documents.machine import order_get, order_lock, order_touch, transition_apply
from order_documents.parties import party_rename
from order_documents.references import items_gone_refuse, items_recheck

from .clients import PendingClaim, customer_fetch, customer_recheck, stock_availability
from .events import sales_order_cancelled_publish, sales_order_confirmed_publish, sales_order_paid_publish
from .models import CustomerVersion, SalesOrder, SalesOrderLine
from .transitions import (
    CANCEL,
    CANCELLABLE_STOCK,
    CONFIRM,
    EDITABLE,
    GIVEN_BACK_ON_CANCEL,
    PAY,
    STOCK_ANSWERS,
    STOCK_PROGRESS_FROM,
)

logger = logging.getLogger(__name__)

Status, StockStatus = SalesOrder.Status, SalesOrder.StockStatus


def sales_order_create(
    *,
    customer_id: uuid.UUID,
    lines: Sequence[LineRequest],
    allow_backorder: bool = False,
    order_id: uuid.UUID | None = None,
) -> SalesOrder:
    """Create a draft for ``customer_id``; customer and every item checked first, then one transaction.

    ``order_id`` chooses the new order's id (the demo seed, so that a re-run finds its orders).
    """

    def header(*, name: str, version: int | None, total_amount: Decimal) -> SalesOrder:
        return SalesOrder.objects.create(
            id=order_id or uuid.uuid4(),
            customer_id=customer_id,
            customer_name=name,
            customer_version=version,
            total_amount=total_amount,
            allow_backorder=allow_backorder,
        )

    return order_create(
        versions=CustomerVersion,
        party_id=customer_id,
        party=lambda: customer_fetch(customer_id=customer_id),
        lines=lines,
        line_model=SalesOrderLine,
        header=header,
    )


def sales_order_lines_replace(
    *, order_id: uuid.UUID, lines: Sequence[LineRequest], allow_backorder: bool | None = None
) -> SalesOrder:
    """Replace a draft's lines (and ``allow_backorder``, unless None: kept as it is).

    Invalid lines, or an order no longer a draft, change nothing.
    """
    header = {} if allow_backorder is None else {"allow_backorder": allow_backorder}
    return order_lines_replace(
        model=SalesOrder, line_model=SalesOrderLine, pk=order_id, lines=lines, editable=EDITABLE, header=header
    )


def sales_order_confirm(*, order_id: uuid.UUID, actor: str) -> SalesOrder:
    """Confirm a draft if inventory has the stock now, and emit ``sales.order.confirmed`` with it.

    Availability is asked once, outside the transaction; the order is then locked and
    re-checked. Of two concurrent confirms the second finds it Confirmed (409), so the
    event is written once. If the lines were replaced in between, the check no longer
    holds: 409, and the caller may retry (other changes, a customer's new name, do not
    matter). An order that allows backorders is confirmed whatever is on hand (what is
    short waits for stock): only whether inventory still has its items is asked.
    """
    order = order_get(model=SalesOrder, pk=order_id)
    CONFIRM.check(order)
    lines = list(order.lines.all())
    # The customer or an item deleted since the draft (a race with its delete): 409, nothing written. Without
    # backorders, inventory's availability check answers for the items too (_stock_check). contact_svc is
    # asked while inventory is: the confirm waits for the slower call, not for both; the customer's refusal
    # comes first.
    if order.allow_backorder:
        items_check = partial(items_recheck, item_ids=[line.item_id for line in lines])
    else:
        items_check = partial(_stock_check, order_id=order_id, lines=lines)
    party_beside(partial(customer_recheck, customer_id=order.customer_id), items_check)
    with transaction.atomic():
        locked = order_lock(model=SalesOrder, pk=order_id)
        CONFIRM.check(locked)
        # Read once, for the comparison, the event and the answer.
        prefetch_related_objects([locked], "lines")
        if _quantities(locked.lines.all()) != _quantities(lines) or locked.allow_backorder != order.allow_backorder:
            raise Conflict("The order's lines changed while it was being confirmed; try again.")
        transition_apply(order=locked, transition=CONFIRM, actor=actor, stock_status=StockStatus.PENDING)
        sales_order_confirmed_publish(order=locked)
    return locked


def _stock_check(*, order_id: uuid.UUID, lines: Sequence[SalesOrderLine]) -> None:
    """Refuse the items inventory no longer has (409 naming them), then raise ``InsufficientStock`` (409, a detail
    per short line) unless inventory can cover ``lines`` now.

    One call to inventory answers both: its availability check names the items it does not
    have (``unknown``). An inventory of the previous release does not (a rolling upgrade:
    docs/upgrading.md), and the items are then looked up after it, as before.

    Inventory's stock on hand does not yet show the orders this service confirmed whose
    confirmation it has not applied (``pending``: the event is on its way, or the broker
    is down). Their lines go with the question, so that a backlog of confirmations cannot
    all pass the check and then all turn out short; inventory counts those it has not
    decided yet, and not the ones it decided while their answer is on its way to us.
    """
    pending = _pending_claims(item_ids={line.item_id for line in lines}, order_id=order_id)
    answer = stock_availability(lines=lines, pending=pending)
    item_ids = [line.item_id for line in lines]
    if answer.unknown is None:
        items_recheck(item_ids=item_ids)
    else:
        items_gone_refuse(item_ids=item_ids, gone=answer.unknown)
    short = {shortfall.item_id: shortfall for shortfall in answer.shortfalls}
    if short:
        raise InsufficientStock(
            {
                "field": f"items.{index}.quantity",
                "item_id": line.item_id,
                "requested": short[line.item_id].requested,
                "available": short[line.item_id].available,
            }
            for index, line in enumerate(lines)
            if line.item_id in short
        )


# The most pending lines one check sends (inventory's MAX_PENDING, which keeps the body under its 1 MiB limit):
# past it the broker has been away a long while.
MAX_PENDING_CLAIMS = 5_000


def _pending_claims(*, item_ids: set[uuid.UUID], order_id: uuid.UUID) -> list[PendingClaim]:
    """Return, per order and item, what this service's other confirmed orders still ``pending`` want (one query).

    More than inventory counts in one check is a 503: no answer is better than one that
    leaves some of them out.
    """
    rows = list(
        SalesOrderLine.objects.filter(order__stock_status=StockStatus.PENDING, item_id__in=item_ids)
        .exclude(order_id=order_id)
        .values("order_id", "item_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_id", "item_id", "total")[: MAX_PENDING_CLAIMS + 1]
    )
    if len(rows) > MAX_PENDING_CLAIMS:
        raise UpstreamUnavailable(
            f"More than {MAX_PENDING_CLAIMS} confirmed order lines of these items wait for inventory's answer; "
            "confirm again once they have it."
        )
    return [PendingClaim(order_id=order, item_id=item, quantity=total) for order, item, total in rows]


def _quantities(lines) -> list[tuple[uuid.UUID, int]]:
    return [(line.item_id, line.quantity) for line in lines]


@transaction.atomic
def sales_order_pay(*, order_id: uuid.UUID, actor: str) -> SalesOrder:
    """Mark a confirmed order paid and emit ``sales.order.paid``, unless its stock is ``short``.

    A short order will never ship (inventory issued nothing), so taking its money is a
    409 naming the stock_status; it can be cancelled instead. ``pending`` stays payable:
    the original implementation's clients confirm and pay at once, before inventory answers.
    """
    order = order_lock(model=SalesOrder, pk=order_id)
    PAY.check(order)
    if order.stock_status == StockStatus.SHORT:
        raise _stock_status_conflict(
            "The order's stock could not be issued; cancel it instead of paying.",
            "stock_status is short: inventory had too little stock to issue the order",
        )
    transition_apply(order=order, transition=PAY, actor=actor)
    sales_order_paid_publish(order=order)
    return order


def _stock_status_conflict(message: str, detail: str) -> Conflict:
    return Conflict(message, details=[{"field": "stock_status", "message": detail}])


@transaction.atomic
def sales_order_cancel(*, order_id: uuid.UUID, actor: str) -> SalesOrder:
    """Cancel a draft, or a confirmed order once inventory has answered.

    While ``stock_status`` is ``pending`` the cancel is a 409, so it can never overtake
    the issue. Only an order whose stock was issued emits ``sales.order.cancelled``
    (inventory gives that stock back); a short one had nothing issued.
    """
    order = order_lock(model=SalesOrder, pk=order_id)
    CANCEL.check(order)
    if order.status == Status.CONFIRMED and order.stock_status not in CANCELLABLE_STOCK:
        raise _stock_status_conflict(
            "The order's stock is not settled yet.",
            "stock_status is pending: inventory has not answered the confirmation yet",
        )
    # Issued, or waiting for stock (perhaps partly issued): inventory drops the wait and gives back what it issued.
    was_issued = order.status == Status.CONFIRMED and order.stock_status in GIVEN_BACK_ON_CANCEL
    transition_apply(order=order, transition=CANCEL, actor=actor)
    if was_issued:
        sales_order_cancelled_publish(order=order)
    return order


@handler_atomic
def sales_order_stock_status_set(
    *, order_id: uuid.UUID, stock_status: str, issued: Mapping[uuid.UUID, int] | None = None, version: int = 1
) -> bool:
    """Record inventory's answer, only from the status it settles; return whether it applied.

    One conditional UPDATE: a redelivered or out-of-place answer changes nothing. The
    lines follow: ``issued`` says what was issued per item (None: every line in full, as
    an ``issued`` answer says), nothing is backordered any more.
    """
    updated = SalesOrder.objects.filter(pk=order_id, stock_status__in=STOCK_ANSWERS[stock_status]).update(
        stock_status=stock_status,
        stock_version=version,
        revision=F("revision") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        logger.warning(
            "stock answer %s for order %s not applied (unknown order or not awaiting it)", stock_status, order_id
        )
        return False
    order_lines = SalesOrderLine.objects.filter(order_id=order_id)
    if issued is None:
        # Every line issued in full (the common answer): one UPDATE, no line read first.
        order_lines.update(quantity_issued=F("quantity"), quantity_backordered=0)
        return True
    _lines_figures_write(list(order_lines.order_by("position")), issued=issued, backordered={})
    return True


@handler_atomic
def sales_order_stock_progress(
    *,
    order_id: uuid.UUID,
    version: int,
    issued: Mapping[uuid.UUID, int],
    backordered: Mapping[uuid.UUID, int],
) -> bool:
    """Apply a backorder-allowed order's figures from inventory, if newer than what the order holds.

    The figures are cumulative per item, so the newest version alone is the truth: a
    redelivered or overtaken one changes nothing. ``stock_status`` follows: ``backordered``
    while any unit waits, ``issued`` once none does. An order whose stock was given back
    (``returned``) or decided otherwise keeps it.
    """
    order = SalesOrder.objects.select_for_update().filter(pk=order_id).first()
    if order is None or order.stock_status not in STOCK_PROGRESS_FROM or order.stock_version >= version:
        logger.info("stock figures v%s for order %s not applied (unknown, settled or older)", version, order_id)
        return False
    lines = list(order.lines.all())
    _lines_figures_write(lines, issued=issued, backordered=backordered)
    waiting = any(line.quantity_backordered for line in lines)
    order.stock_status = StockStatus.BACKORDERED if waiting else StockStatus.ISSUED
    order.stock_version = version
    order_touch(order, fields=["stock_status", "stock_version"])
    return True


def _lines_figures_write(
    lines: Sequence[SalesOrderLine], *, issued: Mapping[uuid.UUID, int], backordered: Mapping[uuid.UUID, int]
) -> None:
    """Spread per-item figures over the lines of each item, first line first, and save them (one UPDATE)."""
    issued_left, waiting_left = dict(issued), dict(backordered)
    for line in lines:
        line.quantity_issued = min(line.quantity, issued_left.get(line.item_id, 0))
        issued_left[line.item_id] = issued_left.get(line.item_id, 0) - line.quantity_issued
        line.quantity_backordered = min(line.quantity - line.quantity_issued, waiting_left.get(line.item_id, 0))
        waiting_left[line.item_id] = waiting_left.get(line.item_id, 0) - line.quantity_backordered
    SalesOrderLine.objects.bulk_update(lines, ["quantity_issued", "quantity_backordered"])


def sales_order_customer_rename(*, customer_id: uuid.UUID, name: str, version: int) -> int:
    """Copy a customer's newer name onto its orders (one conditional UPDATE); return how many changed.

    The version is also remembered for the customer, for orders created later (order_documents.parties).
    """
    return party_rename(
        versions=CustomerVersion,
        orders=SalesOrder.objects.filter(customer_id=customer_id),
        party_id=customer_id,
        name=name,
        version=version,
        name_field="customer_name",
        version_field="customer_version",
    )
