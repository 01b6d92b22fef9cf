import json

from django.core.management.base import BaseCommand

from common.events.health import oldest_pending_age
from common.events.models import OutboxEvent


class Command(BaseCommand):
    help = "Show the outbox backlog: pending count and age of the oldest pending event."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        pending = OutboxEvent.objects.filter(sent_at__isnull=True).count()
        age = oldest_pending_age()
        status = {
            "pending": pending,
            "oldest_pending_age_seconds": None if age is None else round(age, 3),
            "sent": OutboxEvent.objects.filter(sent_at__isnull=False).count(),
        }
        if options["json"]:
            self.stdout.write(json.dumps(status))
        else:
            age_text = "-" if age is None else f"{age:.1f}s"
            self.stdout.write(f"pending: {pending}  oldest pending age: {age_text}  sent: {status['sent']}")
