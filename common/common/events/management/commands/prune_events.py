from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from common.jobs import conf
from common.jobs.retention import events_prunable, events_prune


class Command(BaseCommand):
    help = "Delete sent outbox rows and inbox records older than N days (pending rows are never touched)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, older_than_days, dry_run=False, **options):
        # The nightly job's minimum (inbox records are what makes a redelivery harmless).
        least = conf.MINIMUMS["RETENTION_DAYS"]
        if older_than_days < least:
            raise CommandError(f"--older-than-days must be at least {least}")
        older_than = timedelta(days=older_than_days)
        if dry_run:
            outbox, inbox = events_prunable(older_than=older_than)
            self.stdout.write(f"would delete {outbox.count()} outbox rows, {inbox.count()} inbox records")
            return
        # The nightly job's function (common.jobs.tasks.events_prune), by hand.
        outbox_deleted, inbox_deleted = events_prune(older_than=older_than)
        self.stdout.write(f"deleted {outbox_deleted} outbox rows, {inbox_deleted} inbox records")
