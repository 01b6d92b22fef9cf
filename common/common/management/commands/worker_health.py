"""Liveness probe of a relay, consumer, Celery worker or beat: exit 0 if its heartbeat file is fresh, else 1.

``workers`` probes the local run's one background process of the service (common.workers): every
loop it runs, its relay and consumer as the settings call for (``worker_roles``), the worker and beat.
In the ``common`` app rather than ``common.events``: auth_svc has jobs (worker, beat) and no outbox.
"""

from django.core.management.base import BaseCommand, CommandError

from common.events import conf, liveness


class Command(BaseCommand):
    help = "Exit 1 unless the relay, consumer, worker or beat touched its heartbeat file in the last WORKER_MAX_AGE s."

    def add_arguments(self, parser):
        parser.add_argument("role", choices=["relay", "consumer", "worker", "beat", "workers"])
        parser.add_argument("--max-age", type=float, default=None, help='seconds; default ERP_EVENTS["WORKER_MAX_AGE"]')

    def handle(self, *args, role, max_age=None, **options):
        limit = float(conf.get("WORKER_MAX_AGE") if max_age is None else max_age)
        for each in [*conf.worker_roles(), "worker", "beat"] if role == "workers" else [role]:
            age = liveness.age(each)
            if age is None:
                raise CommandError(f"{each}: no heartbeat at {liveness.heartbeat_path(each)}")
            if age > limit:
                raise CommandError(f"{each}: last heartbeat {age:.0f}s ago (limit {limit:.0f}s)")
            self.stdout.write(f"{each}: alive (last heartbeat {age:.1f}s ago)")
