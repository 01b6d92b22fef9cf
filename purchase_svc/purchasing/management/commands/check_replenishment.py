"""``manage.py check_replenishment``: the replenishment's rules, proved of the rows (exit 1 if one is broken).

At most one open replenishment draft per vendor, at most one preferred vendor item per item,
and every open replenishment draft has lines whose subtotals and total follow from their
quantities and prices (:func:`purchasing.selectors.replenishment_discrepancies`). It changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from purchasing.models import PurchaseOrder
from purchasing.selectors import replenishment_discrepancies


class Command(BaseCommand):
    help = "Check the replenishment drafts and the preferred vendor items (exit 1 if a rule is broken)."

    def handle(self, *args, **options) -> None:
        found = replenishment_discrepancies()
        for finding in found:
            self.stderr.write(finding)
        if found:
            raise CommandError(f"{len(found)} replenishment finding(s).")
        drafts = PurchaseOrder.objects.filter(
            status=PurchaseOrder.Status.DRAFT, origin=PurchaseOrder.Origin.REPLENISHMENT
        ).count()
        self.stdout.write(f"replenishment: {drafts} open draft(s) checked, one per vendor, all consistent")
