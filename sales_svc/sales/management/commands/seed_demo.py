"""``manage.py seed_demo --customer ID --item ID ...``: a few demo sales orders, one per status.

Every order goes through the services (customer and items checked with contact_svc and
inventory_svc, events written), so contact_svc, inventory_svc and auth_svc must be running
and the ids must exist there. Without ids it seeds nothing and says so. The local run
(scripts/run.py) calls it once every service answers, with the ids of the demo contacts
and items.

Idempotent: each demo order's id is derived from its key (uuid5), so a re-run finds the
order it made and only takes the steps it has not taken yet. A refused step stops only its
own order: a confirmation refused for lack of stock (purchases not received yet) or a
cancel refused while inventory has not answered is taken on a later run, or, with
``--settle SECONDS``, by this one, which tries again every :data:`SETTLE_POLL_SECONDS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from time import monotonic, sleep

from django.core.management.base import BaseCommand

from common.exceptions import ServiceError
from order_documents.lines import LineRequest
from order_documents.machine import Transition
from sales.models import SalesOrder
from sales.services import sales_order_cancel, sales_order_confirm, sales_order_create, sales_order_pay
from sales.transitions import CANCEL, CONFIRM, PAY

DEMO_NAMESPACE = uuid.UUID("9b0c6f3e-3d3a-4c39-9a43-5f2f1d0e7a10")
# Who the demo orders' status history says moved them.
SEED_ACTOR = "seed_demo"
SETTLE_POLL_SECONDS = 0.5

STEPS: dict[Transition, Callable[..., SalesOrder]] = {
    CONFIRM: sales_order_confirm,
    PAY: sales_order_pay,
    CANCEL: sales_order_cancel,
}
# key: (customer index, lines as (item index, quantity), the transitions to take in order)
DEMOS: dict[str, tuple[int, tuple[tuple[int, int], ...], tuple[Transition, ...]]] = {
    "draft": (0, ((0, 2), (1, 1)), ()),
    "confirmed": (1, ((0, 1),), (CONFIRM,)),
    "paid": (2, ((1, 2),), (CONFIRM, PAY)),
    "cancelled-draft": (3, ((2, 1),), (CANCEL,)),
    # Cancelled once inventory has issued it (a later round or run), so its stock comes back.
    "cancelled-after-issue": (4, ((2, 1),), (CONFIRM, CANCEL)),
}


def demo_order_id(key: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"sales.SalesOrder:{key}")


class Command(BaseCommand):
    help = "Create the demo sales orders that are missing and take their missing steps (needs running services)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customer", action="append", type=uuid.UUID, default=[], help="A customer id (repeat).")
        parser.add_argument("--item", action="append", type=uuid.UUID, default=[], help="An item id (repeat).")
        parser.add_argument(
            "--settle",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Retry steps refused for now (e.g. a cancel while inventory has not answered) for up to SECONDS.",
        )

    def handle(self, *args, customer: list, item: list, settle: float, **options) -> None:
        if not customer or not item:
            self.stdout.write("sales orders: not seeded (give --customer and --item ids of running services)")
            return
        deadline, taken = monotonic() + settle, 0
        while True:
            outcomes = {key: self.seed_one(key, customers=customer, items=item) for key in DEMOS}
            taken += sum(steps for steps, _, _ in outcomes.values())
            if not any(stopped for _, _, stopped in outcomes.values()) or monotonic() >= deadline:
                break
            sleep(SETTLE_POLL_SECONDS)
        for key, (_, outcome, _) in outcomes.items():
            self.stdout.write(f"sales order {key}: {outcome}")
        self.stdout.write(f"sales orders: {taken} step(s) taken")

    def seed_one(self, key: str, *, customers: list[uuid.UUID], items: list[uuid.UUID]) -> tuple[int, str, bool]:
        """Create the demo order ``key`` if missing and take its missing steps.

        Return the steps taken, the outcome to report, and whether a refused step stopped it.
        """
        party, lines, transitions = DEMOS[key]
        order_id, taken = demo_order_id(key), 0
        order = SalesOrder.objects.filter(pk=order_id).first()
        try:
            if order is None:
                order = sales_order_create(
                    customer_id=customers[party % len(customers)],
                    lines=[LineRequest(item_id=items[index % len(items)], quantity=qty) for index, qty in lines],
                    order_id=order_id,
                )
                taken += 1
            for transition in transitions:
                if order.status in transition.sources:
                    order = STEPS[transition](order_id=order_id, actor=SEED_ACTOR)
                    taken += 1
        except ServiceError as exc:
            details = "; ".join(detail["message"] for detail in exc.details or [])
            where = order.status if order else "creation"
            return taken, f"stopped at {where}: {exc.detail} {details}".strip(), True
        return taken, order.status, False
