"""Write an order document: create it with its lines, or replace its lines while it is a draft.

Every reference is checked with its owning service *before* the transaction opens
(no row lock is held across a network call; the party and the items are asked for at
the same time), then header and lines are written in one transaction. A replacement
locks the order row and re-checks its status, so it cannot slip in after a concurrent
transition.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import transaction

from common.exceptions import InvalidTransition

from .lines import LineRequest, PricedLine, lines_price, lines_total
from .machine import order_get, order_lock, order_touch
from .models import OrderDocument, OrderLine
from .parties import party_version_known
from .references import items_fetch, party_fetch

Order = TypeVar("Order", bound=OrderDocument)
A, B = TypeVar("A"), TypeVar("B")


def line_model(model: type[OrderDocument]) -> type[OrderLine]:
    """Return the line model of ``model`` (the ``related_name="lines"`` foreign key)."""
    return model._meta.get_field("lines").related_model


def lines_checked(*, lines: Sequence[LineRequest]) -> list[PricedLine]:
    """Return ``lines`` priced from inventory's answer (one batched call)."""
    return lines_price(lines=lines, items=items_fetch(lines=lines))


def order_create(
    *, model: type[Order], party_id, lines: Sequence[LineRequest], order_id: uuid.UUID | None = None
) -> Order:
    """Create an order of ``model`` for ``party_id`` with ``lines``, all references checked first.

    ``order_id`` chooses the new order's id (the demo seed, so that a re-run finds its orders).
    """
    party, priced = _both(lambda: party_fetch(party=model.PARTY, party_id=party_id), lambda: lines_checked(lines=lines))
    with transaction.atomic():
        # The name is read now; an event at most as new as the version heard of must not replace it.
        version = party_version_known(model=model, party_id=party_id)
        order = model.objects.create(
            **{
                model.PARTY.id_field: party_id,
                model.PARTY.name_field: party["name"],
                model.PARTY.version_field: version,
            },
            total_amount=lines_total(priced),
            **({"id": order_id} if order_id else {}),
        )
        _lines_write(order=order, lines=priced)
    return order


# Asks contact_svc for the party while this thread asks inventory_svc for the items: a
# create waits for the slower of the two calls, not for their sum. The calls touch no
# database; a shared pool keeps the number of threads bounded per process.
_references_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="order-references")


def _both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Run ``first`` in the pool (with this context: the request id) and ``second`` here; return both.

    If both fail, ``first``'s error is raised (the party is named before the items).
    """
    pending = _references_pool.submit(contextvars.copy_context().run, first)
    try:
        second_result = second()
    except Exception:
        pending.result()  # the party's error, if any, comes first
        raise
    return pending.result(), second_result


def order_lines_replace(*, model: type[Order], pk, lines: Sequence[LineRequest], editable: frozenset[str]) -> Order:
    """Replace the lines of an order whose status is in ``editable``; invalid lines change nothing.

    Raises ``InvalidTransition`` (409) if the order is (or has just become) not editable:
    checked before inventory is asked, and again under the row lock.
    """
    _check_editable(order_get(model=model, pk=pk), editable)
    priced = lines_checked(lines=lines)
    with transaction.atomic():
        order = order_lock(model=model, pk=pk)
        _check_editable(order, editable)
        order.lines.all().delete()
        _lines_write(order=order, lines=priced)
        order.total_amount = lines_total(priced)
        order_touch(order, fields=["total_amount"])
    return order


def _check_editable(order: OrderDocument, editable: frozenset[str]) -> None:
    if order.status not in editable:
        raise InvalidTransition(order.status, sorted(editable))


def _lines_write(*, order: OrderDocument, lines: Sequence[PricedLine]) -> None:
    model = line_model(type(order))
    model.objects.bulk_create(
        model(
            order=order,
            position=position,
            item_id=line.item_id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            subtotal=line.subtotal,
        )
        for position, line in enumerate(lines)
    )
