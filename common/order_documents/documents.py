"""Write an order document's lines: check references, write the lines, replace them while editable.

Every reference is checked with its owning service *before* the transaction opens (no row
lock is held across a network call); on create, the party and the items are asked for at
the same time (:func:`party_and_lines_checked`). A service's create function then writes
its header and :func:`lines_write` in one transaction. A replacement locks the order row
and re-checks its status, so it cannot slip in after a concurrent transition.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import transaction

from common.exceptions import InvalidTransition

from .lines import LineRequest, PricedLine, lines_price, lines_total
from .machine import order_get, order_lock, order_touch
from .models import OrderDocument, OrderLine
from .references import items_fetch

Order = TypeVar("Order", bound=OrderDocument)

# Asks contact_svc for the party while this thread asks inventory_svc for the items: a
# create waits for the slower of the two calls, not for their sum. The calls touch no
# database; a shared pool keeps the number of threads bounded per process.
_references_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="order-references")


def lines_checked(*, lines: Sequence[LineRequest]) -> list[PricedLine]:
    """Return ``lines`` priced from inventory's answer (one batched call)."""
    return lines_price(lines=lines, items=items_fetch(lines=lines))


def party_and_lines_checked(
    *, party: Callable[[], dict], lines: Sequence[LineRequest]
) -> tuple[dict, list[PricedLine]]:
    """Return what ``party()`` fetches and the priced ``lines``, both asked for at once.

    ``party`` runs in the pool (with this context: the request id) while the items are
    checked here. If both fail, the party's error is raised (it is named before the items).
    """
    pending = _references_pool.submit(contextvars.copy_context().run, party)
    try:
        priced = lines_checked(lines=lines)
    except Exception:
        pending.result()  # the party's error, if any, comes first
        raise
    return pending.result(), priced


def lines_write(*, order: OrderDocument, line_model: type[OrderLine], lines: Sequence[PricedLine]) -> None:
    """Insert ``lines`` as ``line_model`` rows of ``order``, in their given order (one INSERT)."""
    line_model.objects.bulk_create(
        line_model(
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


def order_lines_replace(
    *, model: type[Order], line_model: type[OrderLine], pk, lines: Sequence[LineRequest], editable: frozenset[str]
) -> Order:
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
        lines_write(order=order, line_model=line_model, lines=priced)
        order.total_amount = lines_total(priced)
        order_touch(order, fields=["total_amount"])
    return order


def _check_editable(order: OrderDocument, editable: frozenset[str]) -> None:
    if order.status not in editable:
        raise InvalidTransition(order.status, sorted(editable))
