"""The state-machine mechanics: a transition table as data, and applying one under a row lock.

A service declares its table explicitly (``CONFIRM = Transition("confirm", {DRAFT},
CONFIRMED, stamp="confirmed_at")``). :func:`order_lock` takes ``SELECT ... FOR UPDATE``
on the order row and re-reads it, so of two concurrent transitions of one order the
second waits, sees the status the first committed and is refused: an order moves (and
reports its event) once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.utils import timezone

from common.exceptions import InvalidTransition, NotFound

from .models import OrderDocument

Order = TypeVar("Order", bound=OrderDocument)


@dataclass(frozen=True)
class Transition:
    """``name`` moves an order from one of ``sources`` to ``target``, stamping ``stamp`` (a datetime field)."""

    name: str
    sources: frozenset[str]
    target: str
    stamp: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.sources))

    def check(self, order: OrderDocument) -> None:
        """Raise :class:`InvalidTransition` (409 naming the current status) unless the order may move."""
        if order.status not in self.sources:
            raise InvalidTransition(order.status, sorted(self.sources))


def order_get(*, model: type[Order], pk) -> Order:
    """Return the order (no lock) or raise 404."""
    order = model.objects.filter(pk=pk).first()
    if order is None:
        raise NotFound()
    return order


def order_lock(*, model: type[Order], pk) -> Order:
    """Lock the order row and return it as committed now (call inside ``transaction.atomic``)."""
    order = model.objects.select_for_update().filter(pk=pk).first()
    if order is None:
        raise NotFound()
    return order


def order_touch(order: OrderDocument, *, fields: list[str]) -> None:
    """Save ``fields`` of a locked order with its revision bumped (one UPDATE).

    Incremented in Python: the row lock guarantees the revision read is the latest, and
    every other writer (the handlers' conditional UPDATEs) waits for the lock.
    """
    order.revision += 1
    order.save(update_fields=[*fields, "revision", "updated_at"])


def transition_apply(*, order: Order, transition: Transition, actor: str, **changes) -> Order:
    """Move a locked ``order`` along ``transition`` and save it, with ``changes`` to other fields.

    The move is recorded in the order's status history (``order.status_changes``, by
    ``actor``) in the same transaction: a transition that rolls back leaves no trace there either.
    """
    transition.check(order)
    previous, now = order.status, timezone.now()
    order.status = transition.target
    fields = ["status", *changes]
    if transition.stamp:
        setattr(order, transition.stamp, now)
        fields.append(transition.stamp)
    for field, value in changes.items():
        setattr(order, field, value)
    order_touch(order, fields=fields)
    order.status_changes.create(from_status=previous, to_status=order.status, actor=actor, created_at=now)
    return order
