"""``manage.py beat_schedule_install``: add the service's missing default schedules (beat runs it first)."""

from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from common.jobs.beat import schedule_defaults_install


class Command(BaseCommand):
    help = "Create the default beat schedules of config/schedule.py that do not exist yet (edited ones stay)."

    def handle(self, *args, **options):
        created = schedule_defaults_install(app=import_string("config.celery.app"))
        self.stdout.write(f"beat schedules: {len(created)} created" + (f" ({', '.join(created)})" if created else ""))
