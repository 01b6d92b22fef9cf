"""Seed demo orders through the services' real code paths, idempotently.

Each :class:`DemoOrder` has a fixed key, from which its id is derived (uuid5): a
re-run finds the order it made and only takes the steps it has not taken yet, so
seeding can be repeated, or resumed after a step was refused (stock not received yet,
a dependency down), without making duplicates.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rest_framework.exceptions import APIException

from .lines import LineRequest
from .machine import Transition
from .models import OrderDocument

DEMO_NAMESPACE = uuid.UUID("9b0c6f3e-3d3a-4c39-9a43-5f2f1d0e7a10")
# Who the demo orders' status history says moved them.
SEED_ACTOR = "seed_demo"


@dataclass(frozen=True)
class DemoOrder:
    """A demo order: for party ``party`` (index), lines ``(item index, quantity)``, then ``steps``."""

    key: str
    party: int
    lines: tuple[tuple[int, int], ...]
    steps: tuple[tuple[Transition, Callable[..., OrderDocument]], ...] = field(default=())


def demo_order_id(model: type[OrderDocument], key: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{model._meta.label}:{key}")


def demo_orders_seed(
    *,
    model: type[OrderDocument],
    create: Callable[..., OrderDocument],
    demos: Sequence[DemoOrder],
    party_ids: Sequence[uuid.UUID],
    item_ids: Sequence[uuid.UUID],
    report: Callable[[str], None],
) -> int:
    """Create the missing demo orders and take their missing steps; return how many steps were taken."""
    taken = 0
    for demo in demos:
        order_id = demo_order_id(model, demo.key)
        order = model.objects.filter(pk=order_id).first()
        try:
            if order is None:
                lines = [LineRequest(item_id=item_ids[item % len(item_ids)], quantity=qty) for item, qty in demo.lines]
                order = create(
                    **{model.PARTY.id_field: party_ids[demo.party % len(party_ids)]}, lines=lines, order_id=order_id
                )
                taken += 1
            for transition, service in demo.steps:
                if order.status in transition.sources:
                    order = service(order_id=order_id, actor=SEED_ACTOR)
                    taken += 1
        except APIException as exc:
            details = "; ".join(item["message"] for item in getattr(exc, "details", None) or [])
            report(f"{demo.key}: stopped at {order.status if order else 'creation'}: {exc.detail} {details}".strip())
            continue
        report(f"{demo.key}: {order.status}")
    return taken


def add_seed_arguments(parser, *, party: str) -> None:
    """Add ``--<party>`` and ``--item`` (each repeatable, ids) to a seed_demo command."""
    parser.add_argument(f"--{party}", action="append", type=uuid.UUID, default=[], help=f"A {party} id (repeat).")
    parser.add_argument("--item", action="append", type=uuid.UUID, default=[], help="An item id (repeat).")
