"""``manage.py run_workers worker [options]``: the local run's one background process per service.

``manage.py celery worker [options]`` (``deploy/Procfile`` ``workers``: the ``jobs`` line's worker), with
this service's outbox relay and event consumer (``worker_roles``) as threads of the same process
(common.workers). In the ``common`` app, as ``worker_health``: auth_svc has jobs and no outbox.
"""

import argparse

from django.core.management.base import BaseCommand, CommandError

from common.events import conf
from common.workers import LoopThread, run_workers


class Command(BaseCommand):
    help = "Run `celery worker` with this service's relay and consumer as threads of it, until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs=argparse.REMAINDER, help="`worker` and its options, as for celery")

    def handle(self, *args, celery_args: list[str], **options):
        if celery_args[:1] != ["worker"]:
            raise CommandError("run_workers runs Celery's worker: `run_workers worker [options]`")
        loops = [LoopThread.for_role(role) for role in conf.worker_roles()]
        raise SystemExit(run_workers(loops, celery_args[1:]))
