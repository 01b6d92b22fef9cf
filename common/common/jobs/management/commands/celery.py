"""``manage.py celery ARGS...``: Celery's own command line on this project's app (``celery -A config ARGS``).

So that ``make manage SERVICE=auth CMD="celery inspect ping"`` (the local run's environment) or
``entrypoint.sh python manage.py celery inspect active`` (a container's) reach the workers.
"""

import argparse

from celery.bin.celery import celery as celery_command
from django.conf import settings
from django.core.management.base import BaseCommand


def project_package() -> str:
    """Return the package of the settings in use, whose ``celery.py`` holds the app: ``config`` in a service."""
    return settings.SETTINGS_MODULE.rpartition(".")[0]


class Command(BaseCommand):
    help = "Run Celery's command line on this service's app, e.g. `celery inspect ping`, `celery purge`."

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs=argparse.REMAINDER, help="what follows `celery -A config`")

    def handle(self, *args, celery_args: list[str], **options):
        # Click exits with the command's status, which manage.py then exits with.
        celery_command.main(args=["-A", project_package(), *celery_args], prog_name="manage.py celery")
