"""Print which event workers this service runs, as its settings say: ``relay`` and/or ``consumer``.

A service with the events app publishes through the outbox, so it runs a relay; one
whose ``ERP_EVENTS`` names ``HANDLERS`` also runs a consumer. The local run's table of
services (``scripts/run.py`` ``SERVICES``, which compose's and Kubernetes' checks read too)
must say the same: tests/test_run_script.py compares it with this command's answer.
"""

from django.core.management.base import BaseCommand

from common.events import conf


class Command(BaseCommand):
    help = "Print the event worker roles this service runs (relay, consumer), one per line."

    def handle(self, *args, **options):
        for role in conf.worker_roles():
            self.stdout.write(role)
