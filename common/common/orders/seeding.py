"""Seed demo orders through the services' real code paths, idempotently.

Each :class:`DemoOrder` has a fixed key, from which its id is derived (uuid5): a
re-run finds the order it made and only takes the steps it has not taken yet, so
seeding can be repeated, or resumed after a step was refused (stock not received yet,
a dependency down), without making duplicates. With ``settle`` it resumes by itself: the
local run seeds while the consumers run, and a cancel refused while inventory has not
answered the confirmation yet succeeds a moment later.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import monotonic, sleep

from rest_framework.exceptions import APIException

from .lines import LineRequest
from .machine import Transition
from .models import OrderDocument

DEMO_NAMESPACE = uuid.UUID("9b0c6f3e-3d3a-4c39-9a43-5f2f1d0e7a10")
# Who the demo orders' status history says moved them.
SEED_ACTOR = "seed_demo"
# How long ``settle`` waits between two rounds.
SETTLE_POLL_SECONDS = 0.5


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
    settle: float = 0,
) -> int:
    """Create the missing demo orders and take their missing steps; return how many steps were taken.

    A refused step stops only its own order. With ``settle`` seconds, the stopped orders are
    tried again every :data:`SETTLE_POLL_SECONDS` until none is left or the time is up; each
    order's outcome in the last round is reported.
    """
    deadline = monotonic() + settle
    taken = 0
    while True:
        round_taken, outcomes, stopped = _seed_round(model, create, demos, party_ids, item_ids)
        taken += round_taken
        if not stopped or monotonic() >= deadline:
            break
        sleep(SETTLE_POLL_SECONDS)
    for line in outcomes:
        report(line)
    return taken


def _seed_round(model, create, demos, party_ids, item_ids) -> tuple[int, list[str], int]:
    """Take every step that can be taken now; return (steps taken, outcome lines, orders stopped)."""
    taken, outcomes, stopped = 0, [], 0
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
            where = order.status if order else "creation"
            outcomes.append(f"{demo.key}: stopped at {where}: {exc.detail} {details}".strip())
            stopped += 1
            continue
        outcomes.append(f"{demo.key}: {order.status}")
    return taken, outcomes, stopped


def add_seed_arguments(parser, *, party: str) -> None:
    """Add ``--<party>`` and ``--item`` (each repeatable, ids) and ``--settle`` to a seed_demo command."""
    parser.add_argument(f"--{party}", action="append", type=uuid.UUID, default=[], help=f"A {party} id (repeat).")
    parser.add_argument("--item", action="append", type=uuid.UUID, default=[], help="An item id (repeat).")
    parser.add_argument(
        "--settle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="Retry steps refused for now (e.g. a cancel while inventory has not answered) for up to SECONDS.",
    )
