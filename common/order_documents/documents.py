"""Write an order document: create it with its lines, or replace its lines while it is editable.

Every reference is checked with its owning service *before* the transaction opens (no row
lock is held across a network call); on create, the party and the items are asked for at
the same time (:func:`party_and_lines_checked`), then :func:`order_create` writes the header
(through the service's own ``header`` function, which names its party fields) and the lines
in one transaction. A replacement locks the order row and re-checks its status, so it cannot
slip in after a concurrent transition.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from django.db import transaction

from common.exceptions import InvalidTransition

from .lines import LineRequest, PricedLine, lines_price, lines_total
from .machine import order_get, order_lock, order_touch
from .models import OrderDocument, OrderLine, PartyVersion
from .parties import party_name_for_new_order, party_version_known
from .references import items_fetch

Order = TypeVar("Order", bound=OrderDocument)
Order_co = TypeVar("Order_co", bound=OrderDocument, covariant=True)
P = TypeVar("P")
W = TypeVar("W")


class HeaderCreate(Protocol[Order_co]):
    """Insert an order's header with its party's copied ``name`` and ``version`` and its ``total_amount``."""

    def __call__(self, *, name: str, version: int | None, total_amount: Decimal) -> Order_co: ...


# Asks contact_svc for the party while this thread asks inventory_svc for the items: a
# create (or a confirm) waits for the slower of the two calls, not for their sum. The calls
# touch no database; a shared pool keeps the number of threads bounded per process.
_references_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="order-references")


def lines_checked(*, lines: Sequence[LineRequest]) -> list[PricedLine]:
    """Return ``lines`` priced from inventory's answer (one batched call)."""
    return lines_price(lines=lines, items=items_fetch(lines=lines))


def party_and_lines_checked(
    *, party: Callable[[], dict], lines: Sequence[LineRequest]
) -> tuple[dict, list[PricedLine]]:
    """Return what ``party()`` fetches and the priced ``lines``, both asked for at once."""
    return party_beside(party, lambda: lines_checked(lines=lines))


def party_beside(party: Callable[[], P], work: Callable[[], W]) -> tuple[P, W]:
    """Return what ``party()`` and ``work()`` return, ``party`` asked in the pool while ``work`` runs here.

    ``party`` runs with this context (the request id) and must not touch the database (the pool's
    threads have no transaction of the caller's). If both fail, the party's error is raised: it is
    named before the items.
    """
    pending = _references_pool.submit(contextvars.copy_context().run, party)
    try:
        done = work()
    except Exception:
        pending.result()  # the party's error, if any, comes first
        raise
    return pending.result(), done


def order_create(
    *,
    versions: type[PartyVersion],
    party_id,
    party: Callable[[], dict],
    lines: Sequence[LineRequest],
    line_model: type[OrderLine],
    header: HeaderCreate[Order],
) -> Order:
    """Create an order of ``party_id`` with ``lines``: party and items checked first, then one transaction.

    ``party()`` fetches the party from its owning service; ``header`` inserts the order row
    (the service names its fields). The party's name copied onto the order is at least as new
    as every contact event applied so far (:func:`~order_documents.parties.party_name_for_new_order`):
    the version known is read *before* the party is fetched, so the name fetched is at least
    that new, and an event applied in between wins.
    """
    version_before = party_version_known(versions=versions, party_id=party_id)
    fetched, priced = party_and_lines_checked(party=party, lines=lines)
    with transaction.atomic():
        name, version = party_name_for_new_order(
            versions=versions, party_id=party_id, fetched_name=fetched["name"], version_before=version_before
        )
        order = header(name=name, version=version, total_amount=lines_total(priced))
        lines_write(order=order, line_model=line_model, lines=priced)
    return order


def lines_write(*, order: OrderDocument, line_model: type[OrderLine], lines: Sequence[PricedLine]) -> None:
    """Insert ``lines`` as ``line_model`` rows of ``order``, in their given order (one INSERT).

    The rows written are also held as the order's ``lines``, as ``prefetch_related`` would
    hold them: the answer that follows renders them without reading them back.
    """
    written = line_model.objects.bulk_create(
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
    _hold_lines(order, written)


def _hold_lines(order: OrderDocument, lines: list[OrderLine]) -> None:
    """Make ``order.lines.all()`` answer ``lines`` (in position order) without a query, as a prefetch does."""
    manager = order.lines
    held = manager.all()  # not evaluated: filled here, as django.db.models.query.prefetch_one_level fills it
    held._result_cache = lines
    held._prefetch_done = True
    order._prefetched_objects_cache = {
        **getattr(order, "_prefetched_objects_cache", {}),
        manager.field.remote_field.cache_name: held,
    }


def order_lines_replace(
    *,
    model: type[Order],
    line_model: type[OrderLine],
    pk,
    lines: Sequence[LineRequest],
    editable: frozenset[str],
    header: Mapping[str, Any] | None = None,
) -> Order:
    """Replace the lines of an order whose status is in ``editable``; invalid lines change nothing.

    ``header`` sets other fields of the order in the same write (a service's own options).
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
        for field, value in (header or {}).items():
            setattr(order, field, value)
        order_touch(order, fields=["total_amount", *(header or {})])
    return order


def _check_editable(order: OrderDocument, editable: frozenset[str]) -> None:
    if order.status not in editable:
        raise InvalidTransition(order.status, sorted(editable))
