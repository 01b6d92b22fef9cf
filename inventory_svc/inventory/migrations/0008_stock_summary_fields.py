"""The stock rows' summary figures for the back office's home (Stock.reorder_shortfall, Stock.value).

Nullable: the release before them inserts stock rows without them while a deploy rolls.
Filled by 0009, indexed by 0010.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0007_item_max_level"),
    ]

    operations = [
        migrations.AddField(
            model_name="stock",
            name="reorder_shortfall",
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="stock",
            name="value",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=26, null=True),
        ),
    ]
