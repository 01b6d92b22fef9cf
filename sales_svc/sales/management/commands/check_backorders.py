"""``manage.py check_backorders [--export FILE]``: each order's line figures follow from its stock status.

Issued and backordered quantities per line are inventory's figures, applied by the event
handlers; this command proves they are consistent with the order's ``stock_status``
(every line in full once ``issued``, nothing waiting once ``returned``, ...) and prints
every line that is not (exit 1). ``--export FILE`` (``-`` for stdout) also writes each
confirmed order's figures per item as JSON, for inventory's ``check_backorders`` to
compare with its ledger and backorders::

    sales:     manage.py check_backorders --export orders.json
    inventory: manage.py check_backorders orders.json

It changes nothing.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sales.selectors import sales_order_stock_discrepancies, sales_order_stock_export


class Command(BaseCommand):
    help = "Check that every order's issued and backordered figures follow from its stock status (exit 1 if not)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--export", metavar="FILE", help="Write each confirmed order's figures per item as JSON.")

    def handle(self, *args, export: str | None = None, **options) -> None:
        orders = sales_order_stock_export()
        if export:
            body = json.dumps({"orders": orders}, indent=1)
            if export == "-":
                self.stdout.write(body)
            else:
                with open(export, "w", encoding="utf-8") as file:
                    file.write(body + "\n")
        problems = sales_order_stock_discrepancies()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} line figure(s) do not follow from their order's stock status.")
        # With --export -, stdout holds the JSON: the verdict goes to stderr.
        (self.stderr if export == "-" else self.stdout).write(
            f"sales backorders: {len(orders)} confirmed order(s) checked, every line follows its stock status"
        )
