"""``manage.py check_stock_ledger``: stock on hand must equal the sum of each item's movements.

The services make this true by construction; the command is how an operator (or a
monitoring job) proves it, and finds a row changed behind their back. It prints every
item that differs and exits non-zero; it changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inventory.models import Stock
from inventory.selectors import stock_ledger_discrepancies


class Command(BaseCommand):
    help = "Check that every item's stock on hand equals the sum of its stock movements (exit 1 if not)."

    def handle(self, *args, **options) -> None:
        discrepancies = stock_ledger_discrepancies()
        for row in discrepancies:
            self.stderr.write(
                f"{row.sku} ({row.item_id}): on hand {row.on_hand}, ledger {row.ledger}, "
                f"difference {row.on_hand - row.ledger:+d}"
            )
        if discrepancies:
            raise CommandError(f"{len(discrepancies)} item(s) differ from their ledger.")
        self.stdout.write(f"stock ledger: {Stock.objects.count()} item(s) checked, all equal to their ledger")
