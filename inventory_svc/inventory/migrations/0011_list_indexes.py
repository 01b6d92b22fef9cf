"""Index what the item list filters and orders by (docs/performance.md "Data at scale"), built without blocking writes.

The trigram indexes need PostgreSQL's pg_trgm extension (trusted: the database's owner may create it).
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgres, TrigramExtensionOnPostgres


def analyze_items(apps, schema_editor):
    """Gather the statistics of the trigram indexes' expressions, which only ANALYZE collects.

    Without them the planner takes every word for a rare one, and a word every item has (a search
    for a common word) reads a bitmap of every item instead of the table once. ANALYZE reads a
    sample of the items and locks out no read or write.
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE inventory_item")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0010_stock_below_reorder_index"),
    ]

    operations = [
        TrigramExtensionOnPostgres(),
        AddIndexConcurrentlyOnPostgres(
            model_name="item",
            index=models.Index(fields=["unit_price"], name="item_unit_price_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="item",
            index=models.Index(fields=["reorder_level"], name="item_reorder_level_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="item",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper("sku"), name="gin_trgm_ops"),
                name="item_sku_trgm_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="item",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"),
                name="item_name_trgm_idx",
            ),
        ),
        migrations.RunPython(analyze_items, migrations.RunPython.noop),
    ]
