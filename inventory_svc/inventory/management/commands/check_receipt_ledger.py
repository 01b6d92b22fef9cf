"""``manage.py check_receipt_ledger FILE``: the ledger holds exactly what purchase_svc's receipts received.

``FILE`` (``-`` for stdin) is what purchase_svc's ``check_purchase_receipts --export``
wrote: every receipt's quantity per item. Each must appear in the ledger as exactly that
many units received for that order and receipt (reason ``purchase_receipt``), and the
ledger must hold no purchase receipt the file does not name. Run it once the receipts'
events are delivered (``outbox_status`` at 0 on purchase_svc): a receipt still on its
way is reported as missing. Prints every difference and exits 1; changes nothing.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import purchase_receipt_ledger


class Command(BaseCommand):
    help = "Compare the ledger's purchase receipts with purchase_svc's receipts (exit 1 if they differ)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="check_purchase_receipts --export's JSON, or - for stdin.")

    def handle(self, *args, file: str, **options) -> None:
        expected = _expected(sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8"))
        ledger = purchase_receipt_ledger()
        differences = [
            (key, expected.get(key, 0), ledger.get(key, 0))
            for key in sorted(expected.keys() | ledger.keys(), key=str)
            if expected.get(key, 0) != ledger.get(key, 0)
        ]
        for (order_id, receipt_id, item_id), received, moved in differences:
            self.stderr.write(
                f"order {order_id} receipt {receipt_id} item {item_id}: received {received}, ledger {moved}, "
                f"difference {moved - received:+d}"
            )
        if differences:
            raise CommandError(f"{len(differences)} receipt line(s) differ from the ledger.")
        self.stdout.write(f"receipt ledger: {len(expected)} receipt line(s) checked, all in the ledger exactly")


def _expected(text: str) -> dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], int]:
    try:
        rows = json.loads(text)["receipts"]
        expected: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], int] = {}
        for row in rows:
            key = (uuid.UUID(row["order_id"]), uuid.UUID(row["receipt_id"]), uuid.UUID(row["item_id"]))
            expected[key] = expected.get(key, 0) + int(row["quantity"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"not what check_purchase_receipts --export writes: {exc}") from exc
    return expected
