"""``manage.py seed_demo``: a few realistic items with opening stock, for the local run.

Idempotent, keyed on SKU: an item whose SKU exists is left as it is (stock included).
Each new item and its opening stock are written in one transaction through the
services, the opening stock as an adjustment, so the ledger explains every unit.
The SKUs differ from those the original implementation's Postman collection creates
(``LAPTOP-001``...), so running it against the demo data never hits a duplicate.
``--ids-json`` prints the demo items' ids instead (one JSON object, the summary on
stderr): the local run passes them to sales' and purchase's seed_demo.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from common.exceptions import Conflict
from inventory.models import Item
from inventory.services import item_create, stock_adjust

ACTOR = "seed_demo"

DEMO: list[dict] = [
    {"sku": "MON-27-4K", "name": "27-inch 4K monitor", "description": "IPS panel, USB-C 65 W power delivery",
     "unit_price": Decimal("329.90"), "reorder_level": 5, "opening_stock": 24},
    {"sku": "KB-MECH-US", "name": "Mechanical keyboard (US layout)", "description": "Hot-swap switches, PBT keycaps",
     "unit_price": Decimal("119.00"), "reorder_level": 10, "opening_stock": 40},
    {"sku": "MOUSE-WL-02", "name": "Wireless mouse", "description": "2.4 GHz and Bluetooth, 70-day battery",
     "unit_price": Decimal("34.50"), "reorder_level": 15, "opening_stock": 60},
    {"sku": "DOCK-USBC-11", "name": "USB-C docking station, 11 ports", "description": "Dual HDMI, 2.5 GbE, 100 W",
     "unit_price": Decimal("189.00"), "reorder_level": 4, "opening_stock": 12},
    {"sku": "HEADSET-BT-PRO", "name": "Bluetooth headset with ANC", "description": "Boom microphone, USB dongle",
     "unit_price": Decimal("149.00"), "reorder_level": 6, "opening_stock": 6},
    {"sku": "CHAIR-ERGO-BLK", "name": "Ergonomic office chair, black", "description": "Mesh back, 4D armrests",
     "unit_price": Decimal("459.00"), "reorder_level": 2, "opening_stock": 8},
    {"sku": "CABLE-USBC-2M", "name": "USB-C cable, 2 m", "description": "240 W, USB4 40 Gbit/s",
     "unit_price": Decimal("19.90"), "reorder_level": 50, "opening_stock": 200},
    {"sku": "DESK-STAND-140", "name": "Standing desk, 140 cm", "description": "Dual motor, memory presets",
     "unit_price": Decimal("649.00"), "reorder_level": 1, "opening_stock": 0},
]  # fmt: skip


class Command(BaseCommand):
    help = "Create the demo items that are missing (keyed on SKU), with their opening stock as adjustments."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--ids-json", action="store_true", help="Print the demo items' ids as JSON (the summary on stderr)."
        )

    def handle(self, *args, ids_json: bool = False, **options) -> None:
        created = 0
        for fields in DEMO:
            fields = dict(fields)
            opening = fields.pop("opening_stock")
            if Item.objects.filter(sku=fields["sku"]).exists():
                continue
            try:
                with transaction.atomic():
                    item = item_create(**fields)
                    if opening:
                        stock_adjust(changes={item.pk: opening}, actor=ACTOR, note="opening stock")
            except Conflict:  # another process seeding at the same time won the race
                continue
            created += 1
        (self.stderr if ids_json else self.stdout).write(
            f"items: {created} created, {len(DEMO) - created} already present"
        )
        if ids_json:
            # In DEMO's order (the demo orders use the first ones, which have stock); deleted ones left out.
            by_sku = dict(Item.objects.filter(sku__in=[fields["sku"] for fields in DEMO]).values_list("sku", "pk"))
            self.stdout.write(json.dumps({"items": [str(by_sku[f["sku"]]) for f in DEMO if f["sku"] in by_sku]}))
