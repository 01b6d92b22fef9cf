"""Delete stored Idempotency-Key answers older than a retry could still need."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common.idempotency.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than --older-than-hours (default 24)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-hours", type=int, default=24)

    def handle(self, *args, older_than_hours: int, **options):
        if older_than_hours < 1:
            raise CommandError("--older-than-hours must be at least 1.")
        cutoff = timezone.now() - timedelta(hours=older_than_hours)
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"deleted {deleted} idempotency records older than {older_than_hours} h")
