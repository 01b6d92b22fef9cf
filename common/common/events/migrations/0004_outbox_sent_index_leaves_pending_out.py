"""The outbox's ``sent_at`` index holds sent rows only: pending ones are the pending index's alone.

With every row in it, the planner could find the pending rows through it (``sent_at IS NULL``) and
sort them, reading the entry each row left there while it was pending, until VACUUM; the relay
walks the pending index in id order instead (common.events.models.pending_outbox_transaction). Retention's query
(``sent_at < cutoff``) is served as before. Built, and the old one dropped, without blocking writes.
"""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("events", "0003_consumer_progress"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxevent",
            index=models.Index(
                condition=models.Q(sent_at__isnull=False), fields=["sent_at"], name="events_outbox_sent"
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="outboxevent", name="events_outbox_sent_at"),
    ]
