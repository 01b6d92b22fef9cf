"""``manage.py check_stock_ledger``: each stock row must agree with its ledger and with its item.

Stock on hand must equal the sum of the item's movements; the figures the row keeps for the
back office's home (``Stock.reorder_shortfall``, ``Stock.value``) must equal those recomputed
from on hand and the item's reorder level, activity and unit price. The services make both true
by construction; the command is how an operator (or a monitoring job) proves it, and finds a row
changed behind their back. It prints every row that differs and exits non-zero; it changes
nothing, unless ``--repair``: then the summary figures found wrong are recomputed (after a
rolling deploy, for the rows the release before them moved; docs/upgrading.md), never on hand,
which only a movement changes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inventory.models import Stock
from inventory.selectors import stock_ledger_discrepancies, stock_summary_discrepancies
from inventory.services import stock_summaries_repair


class Command(BaseCommand):
    help = (
        "Check that every item's stock on hand equals the sum of its stock movements, and that its stock row's "
        "summary figures (reorder shortfall, value) equal those of its on hand and item (exit 1 if not)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Recompute the summary figures found wrong (never on hand); exit 1 only for ledger differences.",
        )

    def handle(self, *args, repair: bool = False, **options) -> None:
        ledger = stock_ledger_discrepancies()
        for row in ledger:
            self.stderr.write(
                f"{row.sku} ({row.item_id}): on hand {row.on_hand}, ledger {row.ledger}, "
                f"difference {row.on_hand - row.ledger:+d}"
            )
        summary = stock_summary_discrepancies()
        for row in summary:
            self.stderr.write(
                f"{row.sku} ({row.item_id}): summary figures (reorder shortfall, value) {_figures(row.kept)}, "
                f"recomputed {_figures(row.expected)}"
            )
        if summary and repair:
            repaired = stock_summaries_repair(item_ids=[row.item_id for row in summary])
            self.stdout.write(f"stock summary: {repaired} row(s) recomputed")
            summary = []
        problems = [
            f"{len(ledger)} item(s) differ from their ledger" if ledger else "",
            f"{len(summary)} stock row(s) keep wrong summary figures" if summary else "",
        ]
        if ledger or summary:
            raise CommandError("; ".join(problem for problem in problems if problem) + ".")
        checked = Stock.objects.count()
        self.stdout.write(
            f"stock ledger: {checked} item(s) checked, all equal to their ledger and their summary figures"
        )


def _figures(figures: tuple) -> str:
    shortfall, value = figures
    return f"({'none' if shortfall is None else shortfall}, {'none' if value is None else value})"
