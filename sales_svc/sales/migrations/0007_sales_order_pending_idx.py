from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY: the previous release keeps writing orders while it builds.
    atomic = False

    dependencies = [
        ("sales", "0006_backorder_db_defaults"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="salesorder",
            index=models.Index(
                condition=models.Q(("stock_status", "pending")), fields=["confirmed_at"], name="sales_order_pending_idx"
            ),
        ),
    ]
