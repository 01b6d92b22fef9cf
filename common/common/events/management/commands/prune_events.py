from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common.events.models import InboxEvent, OutboxEvent
from common.jobs.retention import events_prune


class Command(BaseCommand):
    help = "Delete sent outbox rows and inbox records older than N days (pending rows are never touched)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, older_than_days, dry_run=False, **options):
        if older_than_days < 1:
            # Inbox records are what makes redelivery harmless: keep at least a day.
            raise CommandError("--older-than-days must be at least 1")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        outbox = OutboxEvent.objects.filter(sent_at__isnull=False, sent_at__lt=cutoff)
        inbox = InboxEvent.objects.filter(received_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"would delete {outbox.count()} outbox rows, {inbox.count()} inbox records")
            return
        # The nightly job's function (common.jobs.tasks.events_prune), by hand.
        outbox_deleted, inbox_deleted = events_prune(older_than=timedelta(days=older_than_days))
        self.stdout.write(f"deleted {outbox_deleted} outbox rows, {inbox_deleted} inbox records")
