"""Celery beat's scheduler (django-celery-beat's, beat lock and heartbeat added), the install of defaults.

The schedules live in django-celery-beat's tables, so an admin edits, disables or adds
them in the back office. A service's defaults are data in its ``config/schedule.py``
(``JOBS["SCHEDULE"]``), in Celery's ``beat_schedule`` form; :func:`schedule_defaults_install`
(run by beat once it holds the beat lock, and by ``manage.py beat_schedule_install``) adds the missing ones
and never touches one that exists, so an admin's change survives a restart (disable a
default rather than delete it: a deleted one comes back).
Nothing is put in Celery's own ``beat_schedule`` setting: django-celery-beat would
overwrite the admin's edits from it at every start.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import Error, transaction
from django.utils.module_loading import import_string
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler as _DatabaseScheduler
from django_celery_beat.schedulers import ModelEntry

from common.events.liveness import Heartbeat

from . import conf
from .beat_lock import BeatLock, beat_lock

logger = logging.getLogger(__name__)


class DatabaseScheduler(_DatabaseScheduler):
    """django-celery-beat's scheduler, sending only while it holds the service's beat lock.

    Its first tick takes the lock (:mod:`.beat_lock`), waiting while another beat holds it,
    then installs the missing defaults and reads the schedules: nothing is read or written
    before, so a waiting beat holds no stale copy of them. Every tick first checks the lock
    is still held; one lost is waited for again, and the schedules read again, since another
    beat may have sent their runs meanwhile. The wait is in the tick, not in the scheduler's
    start, because a SIGTERM during a wait there would build a second scheduler (Celery's
    ``Service.sync``).

    Every tick (5 s at most apart), and every try of a waiting beat, touches beat's heartbeat
    file (``worker_health beat``): a beat waiting for the lock is alive.
    """

    _heartbeat: Heartbeat | None = None
    _lock: BeatLock | None = None

    def setup_schedule(self):
        """Nothing yet: the first tick takes the lock, then sets the schedules up (``lock_hold``)."""

    def tick(self, *args, **kwargs):
        self.lock_hold()
        self.heartbeat().beat()
        return super().tick(*args, **kwargs)

    def heartbeat(self) -> Heartbeat:
        if self._heartbeat is None:
            self._heartbeat = Heartbeat("beat")
        return self._heartbeat

    def lock_hold(self) -> None:
        """Return at once if this beat holds the lock; else wait for it, then (re)load the schedules."""
        if self._lock is not None and self._lock.is_held():
            return
        if self._lock is None:
            self._lock = beat_lock()
        else:
            logger.error(
                "beat: lost the beat lock (its database session ended); sending nothing until it holds it again"
            )
            self._lock.release()
        beat_lock_wait(self._lock, heartbeat=self.heartbeat())
        created = schedule_defaults_install(app=self.app)
        if created:
            logger.info("beat: default schedules created: %s", ", ".join(created))
        # Read every schedule from the database again (django-celery-beat's initial read), and
        # rebuild the heap from it: the last runs another beat may have written win.
        self._initial_read = True
        self._heap = None
        super().setup_schedule()

    def close(self):
        if self._lock is not None:
            self._lock.release()
        if self._heartbeat is not None:
            self._heartbeat.clear()
        super().close()


def beat_lock_wait(lock: BeatLock, *, heartbeat: Heartbeat) -> None:
    """Return once ``lock`` is taken; until then try every ``BEAT_LOCK_RETRY_SECONDS``.

    One WARNING says that another beat holds it (not one per try), one that the database
    cannot be reached (per outage). A try that got an answer touches ``heartbeat``: a beat
    waiting its turn is alive; one that cannot reach its database is not.
    """
    held_elsewhere_said = unreachable_said = False
    while True:
        try:
            acquired = lock.try_acquire()
        except Error as exc:
            if not unreachable_said:
                logger.warning("beat: cannot reach the database to take the beat lock (%s); trying again", exc)
                unreachable_said = True
        else:
            if acquired:
                logger.info("beat: holds the beat lock of %s; sending the jobs due", settings.SERVICE_NAME)
                return
            unreachable_said = False
            heartbeat.beat()
            if not held_elsewhere_said:
                logger.warning(
                    "beat: another beat of %s holds the beat lock; this one waits, and takes over when it stops",
                    settings.SERVICE_NAME,
                )
                held_elsewhere_said = True
        time.sleep(conf.get("BEAT_LOCK_RETRY_SECONDS"))


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
