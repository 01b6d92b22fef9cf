"""Fill the stock rows' summary figures, a thousand rows per transaction.

Its own migration, not atomic: each batch locks only its stock rows (ascending item id, the
services' lock order) for as long as it takes to write them, so the release still serving
keeps moving stock meanwhile. A row that release moves after its batch is recomputed by
``check_stock_ledger --repair`` once the deploy is over (docs/upgrading.md).
"""

from decimal import Decimal

from django.db import migrations, transaction

from common.db import rows_update

BATCH = 1000


def stock_summary_figures(*, quantity, reorder_level, active, unit_price):
    """``inventory.models.stock_summary_figures`` as it was written with this migration, frozen here:
    a later change of the model's formula must not change what this migration did."""
    at_or_below = active and quantity <= reorder_level
    return (reorder_level - quantity if at_or_below else None), quantity * Decimal(unit_price)


def fill(apps, schema_editor):
    Item, Stock = apps.get_model("inventory", "Item"), apps.get_model("inventory", "Stock")
    after = None
    while True:
        with transaction.atomic(using=schema_editor.connection.alias):
            rows = Stock.objects.select_for_update().order_by("item_id")
            batch = list((rows.filter(item_id__gt=after) if after else rows)[:BATCH])
            if not batch:
                return
            items = Item.objects.in_bulk([stock.item_id for stock in batch])
            for stock in batch:
                item = items[stock.item_id]
                stock.reorder_shortfall, stock.value = stock_summary_figures(
                    quantity=stock.quantity,
                    reorder_level=item.reorder_level,
                    active=item.active,
                    unit_price=item.unit_price,
                )
            rows_update(Stock, batch, ["reorder_shortfall", "value"])
            after = batch[-1].item_id


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0008_stock_summary_fields"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
