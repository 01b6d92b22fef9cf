import json

from django.core.management.base import BaseCommand

from common.events.health import outbox_backlog
from common.events.models import OutboxEvent


class Command(BaseCommand):
    help = "Show the outbox backlog: pending count and age of the oldest pending event."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        status = {**outbox_backlog(), "sent": OutboxEvent.objects.filter(sent_at__isnull=False).count()}
        if options["json"]:
            self.stdout.write(json.dumps(status))
        else:
            age = status["oldest_pending_age_seconds"]
            age_text = "-" if age is None else f"{age:.1f}s"
            self.stdout.write(f"pending: {status['pending']}  oldest pending age: {age_text}  sent: {status['sent']}")
