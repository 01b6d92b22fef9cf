"""``manage.py seed_demo --customer ID --item ID ...``: a few demo sales orders, one per status.

Every order goes through the services (customer and items checked with contact_svc
and inventory_svc, events written), so contact_svc, inventory_svc and auth_svc must be
running and the ids must exist there. Idempotent: a re-run takes only the steps not
taken yet; a confirmation refused for lack of stock (purchases not received yet) or a
cancel refused while inventory has not answered is taken on a later run. Without ids
it seeds nothing and says so. The local run (scripts/run.py) calls it once every
service answers, with the ids of the demo contacts and items.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from common.orders.seeding import DemoOrder, add_seed_arguments, demo_orders_seed
from sales.models import SalesOrder
from sales.services import sales_order_cancel, sales_order_confirm, sales_order_create, sales_order_pay
from sales.transitions import CANCEL, CONFIRM, PAY

DEMOS = (
    DemoOrder("draft", party=0, lines=((0, 2), (1, 1))),
    DemoOrder("confirmed", party=1, lines=((0, 1),), steps=((CONFIRM, sales_order_confirm),)),
    DemoOrder("paid", party=2, lines=((1, 2),), steps=((CONFIRM, sales_order_confirm), (PAY, sales_order_pay))),
    DemoOrder("cancelled-draft", party=3, lines=((2, 1),), steps=((CANCEL, sales_order_cancel),)),
    # Cancelled once inventory has issued it (a later run), so its stock comes back.
    DemoOrder(
        "cancelled-after-issue",
        party=4,
        lines=((2, 1),),
        steps=((CONFIRM, sales_order_confirm), (CANCEL, sales_order_cancel)),
    ),
)


class Command(BaseCommand):
    help = "Create the demo sales orders that are missing and take their missing steps (needs running services)."

    def add_arguments(self, parser) -> None:
        add_seed_arguments(parser, party="customer")

    def handle(self, *args, customer: list, item: list, settle: float, **options) -> None:
        if not customer or not item:
            self.stdout.write("sales orders: not seeded (give --customer and --item ids of running services)")
            return
        taken = demo_orders_seed(
            model=SalesOrder,
            create=sales_order_create,
            demos=DEMOS,
            party_ids=customer,
            item_ids=item,
            settle=settle,
            report=lambda line: self.stdout.write(f"sales order {line}"),
        )
        self.stdout.write(f"sales orders: {taken} step(s) taken")
