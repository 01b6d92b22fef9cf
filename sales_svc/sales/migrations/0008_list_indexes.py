"""Index what the sales order list filters and orders by (docs/performance.md "Data at scale"), without blocking writes."""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY: the previous release keeps writing orders while it builds.
    atomic = False

    dependencies = [
        ("sales", "0007_sales_order_pending_idx"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="salesorder",
            index=models.Index(fields=["customer_id", "-created_at"], name="sales_order_customer_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="salesorder",
            index=models.Index(fields=["stock_status", "-created_at"], name="sales_order_stock_status_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="salesorder",
            index=models.Index(fields=["updated_at"], name="sales_order_updated_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="salesorder",
            index=models.Index(fields=["total_amount"], name="sales_order_total_idx"),
        ),
    ]
