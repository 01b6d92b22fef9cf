"""Liveness probe of a relay, consumer, Celery worker or beat: exit 0 if its heartbeat file is fresh, else 1.

In the ``common`` app rather than ``common.events``: auth_svc has jobs (worker, beat) and no outbox.
"""

from django.core.management.base import BaseCommand, CommandError

from common.events import conf, liveness


class Command(BaseCommand):
    help = "Exit 1 unless the relay, consumer, worker or beat touched its heartbeat file in the last WORKER_MAX_AGE s."

    def add_arguments(self, parser):
        parser.add_argument("role", choices=["relay", "consumer", "worker", "beat"])
        parser.add_argument("--max-age", type=float, default=None, help='seconds; default ERP_EVENTS["WORKER_MAX_AGE"]')

    def handle(self, *args, role, max_age=None, **options):
        limit = float(conf.get("WORKER_MAX_AGE") if max_age is None else max_age)
        age = liveness.age(role)
        if age is None:
            raise CommandError(f"{role}: no heartbeat at {liveness.heartbeat_path(role)}")
        if age > limit:
            raise CommandError(f"{role}: last heartbeat {age:.0f}s ago (limit {limit:.0f}s)")
        self.stdout.write(f"{role}: alive (last heartbeat {age:.1f}s ago)")
