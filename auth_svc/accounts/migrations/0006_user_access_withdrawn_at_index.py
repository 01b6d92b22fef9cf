"""Index ``access_withdrawn_at``: every poll of the withdrawn access reads the rows stamped after its cursor."""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction; the users table stays writable meanwhile.
    atomic = False

    dependencies = [
        ("accounts", "0005_user_access_version"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="user",
            index=models.Index(fields=["access_withdrawn_at"], name="accounts_user_withdrawn_idx"),
        ),
    ]
