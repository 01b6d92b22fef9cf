"""Delete stored Idempotency-Key answers older than a retry could still need."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from common.jobs import conf
from common.jobs.retention import idempotency_records_prune


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than --older-than-hours (default 24)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-hours", type=int, default=24)

    def handle(self, *args, older_than_hours: int, **options):
        # The nightly job's minimum: a retried POST within the hour still needs its answer.
        least = conf.MINIMUMS["IDEMPOTENCY_HOURS"]
        if older_than_hours < least:
            raise CommandError(f"--older-than-hours must be at least {least}.")
        # The nightly job's function (common.jobs.tasks.idempotency_prune), by hand.
        deleted = idempotency_records_prune(older_than=timedelta(hours=older_than_hours))
        self.stdout.write(f"deleted {deleted} idempotency records older than {older_than_hours} h")
