"""Index what the purchase order list filters and orders by (purchasing/tests/test_list_indexes.py), without blocking
writes."""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY: the previous release keeps writing orders while it builds.
    atomic = False

    dependencies = [
        ("purchasing", "0008_replenishment"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="purchaseorder",
            index=models.Index(fields=["vendor_id", "-created_at"], name="purchase_order_vendor_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="purchaseorder",
            index=models.Index(
                condition=models.Q(stock_refused_at__isnull=False),
                fields=["-created_at"],
                name="purchase_order_refused_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="purchaseorder",
            index=models.Index(fields=["updated_at"], name="purchase_order_updated_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="purchaseorder",
            index=models.Index(fields=["total_amount"], name="purchase_order_total_idx"),
        ),
    ]
