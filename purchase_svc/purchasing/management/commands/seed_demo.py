"""``manage.py seed_demo --vendor ID --item ID ...``: a few demo purchase orders, one per status.

Every order goes through the services (vendor and items checked with contact_svc and
inventory_svc, events written: a reception adds stock), so contact_svc, inventory_svc
and auth_svc must be running and the ids must exist there. Idempotent: a re-run takes
only the steps not taken yet. Without ids it seeds nothing and says so. The local run
(scripts/run.py) calls it once every service answers, with the ids of the demo contacts and items.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from common.orders.seeding import DemoOrder, add_seed_arguments, demo_orders_seed
from purchasing.models import PurchaseOrder
from purchasing.services import purchase_order_cancel, purchase_order_create, purchase_order_pay, purchase_order_receive
from purchasing.transitions import CANCEL, PAY, RECEIVE

DEMOS = (
    DemoOrder("draft", party=0, lines=((0, 10),)),
    DemoOrder("received", party=1, lines=((0, 50), (1, 50)), steps=((RECEIVE, purchase_order_receive),)),
    DemoOrder(
        "paid",
        party=2,
        lines=((1, 20), (2, 20)),
        steps=((RECEIVE, purchase_order_receive), (PAY, purchase_order_pay)),
    ),
    DemoOrder("cancelled", party=3, lines=((2, 5),), steps=((CANCEL, purchase_order_cancel),)),
)


class Command(BaseCommand):
    help = "Create the demo purchase orders that are missing and take their missing steps (needs running services)."

    def add_arguments(self, parser) -> None:
        add_seed_arguments(parser, party="vendor")

    def handle(self, *args, vendor: list, item: list, settle: float, **options) -> None:
        if not vendor or not item:
            self.stdout.write("purchase orders: not seeded (give --vendor and --item ids of running services)")
            return
        taken = demo_orders_seed(
            model=PurchaseOrder,
            create=purchase_order_create,
            demos=DEMOS,
            party_ids=vendor,
            item_ids=item,
            settle=settle,
            report=lambda line: self.stdout.write(f"purchase order {line}"),
        )
        self.stdout.write(f"purchase orders: {taken} step(s) taken")
