"""``manage.py check_purchase_receipts``: every line's ``quantity_received`` must equal the sum of its receipt lines.

And every order's ``received_amount`` (what ``pay`` pays) and status must follow from its
receipts. The services make this true by construction (a receipt writes its lines, the
line's figure and the order in one transaction); the command proves it, as
``check_stock_ledger`` does for stock, and prints every line and order that differs (exit 1).
``--export FILE`` (``-`` for stdout) also writes what each receipt received per item as JSON, for inventory's
``check_receipt_ledger`` to compare with its ledger::

    purchase: manage.py check_purchase_receipts --export receipts.json
    inventory: manage.py check_receipt_ledger receipts.json

It changes nothing.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from purchasing.models import PurchaseOrderLine
from purchasing.selectors import (
    purchase_order_receipt_discrepancies,
    purchase_receipt_quantities,
    purchase_received_discrepancies,
)


class Command(BaseCommand):
    help = "Check that every purchase line's received quantity equals the sum of its receipt lines (exit 1 if not)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--export", metavar="FILE", help="Write each receipt's quantities per item as JSON.")

    def handle(self, *args, export: str | None = None, **options) -> None:
        if export:
            self._export(export)
        discrepancies = purchase_received_discrepancies()
        for row in discrepancies:
            self.stderr.write(
                f"order {row.order_id} line {row.line_id} (item {row.item_id}): received {row.quantity_received}, "
                f"receipts {row.receipts}, difference {row.quantity_received - row.receipts:+d}"
            )
        orders = purchase_order_receipt_discrepancies()
        for order in orders:
            self.stderr.write(f"order {order.order_id} ({order.status}): {order.problem}")
        failures = [f"{len(discrepancies)} line(s) differ from their receipts."] if discrepancies else []
        failures += [f"{len(orders)} order finding(s) differ from their receipts."] if orders else []
        if failures:
            raise CommandError(" ".join(failures))
        message = f"purchase receipts: {PurchaseOrderLine.objects.count()} line(s) checked, all equal to their receipts"
        # With --export -, stdout holds the JSON: the verdict goes to stderr.
        (self.stderr if export == "-" else self.stdout).write(message)

    def _export(self, path: str) -> None:
        body = json.dumps({"receipts": purchase_receipt_quantities()}, indent=1)
        if path == "-":
            self.stdout.write(body)
            return
        with open(path, "w", encoding="utf-8") as file:
            file.write(body + "\n")
