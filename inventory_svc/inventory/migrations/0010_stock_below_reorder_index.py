"""Index the stock rows at or below their item's reorder level, built without blocking writes."""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0009_stock_summary_backfill"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="stock",
            index=models.Index(
                condition=models.Q(("reorder_shortfall__isnull", False)),
                fields=["-reorder_shortfall"],
                name="stock_below_reorder_idx",
            ),
        ),
    ]
