"""Celery beat's scheduler (django-celery-beat's, heartbeat added) and the install of default schedules.

The schedules live in django-celery-beat's tables, so an admin edits, disables or adds
them in the back office. A service's defaults are data in its ``config/schedule.py``
(``JOBS["SCHEDULE"]``), in Celery's ``beat_schedule`` form; :func:`schedule_defaults_install`
(run by beat as it starts, and by ``manage.py beat_schedule_install``) adds the missing ones
and never touches one that exists, so an admin's change survives a restart (disable a
default rather than delete it: a deleted one comes back).
Nothing is put in Celery's own ``beat_schedule`` setting: django-celery-beat would
overwrite the admin's edits from it at every start.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.module_loading import import_string
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler as _DatabaseScheduler
from django_celery_beat.schedulers import ModelEntry

from common.events.liveness import Heartbeat

from . import conf

logger = logging.getLogger(__name__)


class DatabaseScheduler(_DatabaseScheduler):
    """django-celery-beat's scheduler: installs the missing defaults when it starts, beats on every tick.

    Every tick (5 s at most apart) touches beat's heartbeat file (``worker_health beat``).
    """

    _heartbeat: Heartbeat | None = None

    def setup_schedule(self):
        created = schedule_defaults_install(app=self.app)
        if created:
            logger.info("beat: default schedules created: %s", ", ".join(created))
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        if self._heartbeat is None:
            self._heartbeat = Heartbeat("beat")
        self._heartbeat.beat()
        return super().tick(*args, **kwargs)

    def close(self):
        if self._heartbeat is not None:
            self._heartbeat.clear()
        super().close()


def schedule_defaults() -> dict[str, dict]:
    """Return the service's default schedules: name -> Celery ``beat_schedule`` entry."""
    return import_string(conf.get("SCHEDULE"))


@transaction.atomic
def schedule_defaults_install(*, app) -> list[str]:
    """Create each default schedule that has no row of its name yet; return the names created."""
    created = []
    existing = set(PeriodicTask.objects.values_list("name", flat=True))
    for name, entry in schedule_defaults().items():
        if name not in existing:
            ModelEntry.from_entry(name, app=app, **entry)
            created.append(name)
    return created
