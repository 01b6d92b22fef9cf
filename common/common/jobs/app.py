"""The Celery app of a service with jobs: its ``config/celery.py`` is ``app = celery_app()``.

The Django settings' ``CELERY_*`` are the configuration (common.settings.service), and
nothing else of them (:class:`CelerySettings`); what depends on the service is added here
as defaults, read once the settings are: its queue and its remote-control exchange, both
named after ``SERVICE_NAME`` (behind the events' ``PREFIX``), so that services sharing one
broker (one RabbitMQ vhost, one filesystem folder) never take each other's jobs, and
``celery inspect`` reaches only this service's workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from celery import Celery, bootsteps
from click import Option

from common.events.liveness import Heartbeat

from . import conf

logger = logging.getLogger(__name__)


SETTINGS_PREFIX = "CELERY_"


class CelerySettings(Mapping):
    """The Django settings named ``CELERY_*``, under Celery's own names (``CELERY_BROKER_URL`` as ``broker_url``).

    Only those: a worker's remote control answers ``celery inspect conf`` with whatever its
    app was configured from, to anyone who may publish on the service's broker. From
    Django's whole settings (Celery's usual ``namespace="CELERY"`` layout) that answer would
    hold auth_svc's service secrets, the SSO clients' secrets and the broker's password:
    Celery masks a setting by its name, and neither a secret nested under a service's name
    nor ``CELERY_BROKER_URL`` has a name it knows (``broker_url`` it does). Read on each
    access, as Django's settings are, so nothing is read before they are configured.
    """

    def __getitem__(self, name: str) -> Any:
        from django.conf import settings

        try:
            return getattr(settings, SETTINGS_PREFIX + name.upper())
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        from django.conf import settings

        return (
            name.removeprefix(SETTINGS_PREFIX).lower() for name in dir(settings) if name.startswith(SETTINGS_PREFIX)
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)


def service_queue() -> str:
    """Return the name of this service's job queue (and of its control exchange): ``<service>.jobs``."""
    from django.conf import settings

    from common.events import conf as events_conf

    return f"{events_conf.get('PREFIX')}{settings.SERVICE_NAME}.jobs"


def _service_defaults() -> dict[str, str]:
    queue = service_queue()
    return {"task_default_queue": queue, "control_exchange": queue}


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Touch the worker's heartbeat file (``manage.py worker_health worker``) on the worker's timer.

    The timer turns in the worker's event loop, which the threads pool (one thread:
    ``CELERY_WORKER_POOL``) leaves free while a job runs, so the file stays fresh however
    long a job takes; the solo pool ran the job in that loop, and a job longer than the
    probe's bound got its worker restarted mid-job. The file goes stale, and the probe
    restarts the worker, when the loop itself stops turning (on RabbitMQ: the broker lost,
    while the worker blocks reconnecting) or when a job has run longer than
    ``JOBS["STUCK_JOB_SECONDS"]``: that one is taken for stuck, as the only job thread is
    the worker's only way to do anything.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.heartbeat = Heartbeat("worker")
        self.timer_entry = None
        self._stuck_reported: set[str] = set()

    def start(self, worker):
        self.heartbeat.beat()
        self.timer_entry = worker.timer.call_repeatedly(conf.get("HEARTBEAT_SECONDS"), self.beat_unless_stuck)

    def beat_unless_stuck(self) -> None:
        stuck = stuck_jobs(older_than=conf.get("STUCK_JOB_SECONDS"))
        if not stuck:
            self.heartbeat.beat()
            return
        for request in stuck:
            if request.id not in self._stuck_reported:
                self._stuck_reported.add(request.id)
                logger.error(
                    "job %s[%s] has run for more than %ss: taken for stuck, the worker stops its heartbeat "
                    "so that its liveness probe restarts it",
                    request.name,
                    request.id,
                    conf.get("STUCK_JOB_SECONDS"),
                )

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
        self.heartbeat.clear()


def stuck_jobs(*, older_than: float) -> list:
    """Return the requests of the jobs this worker has been running for more than ``older_than`` seconds."""
    # Celery's own record of what the pool is running (a request joins it as its job starts).
    from celery.worker.state import active_requests

    started_before = time.time() - older_than
    return [request for request in list(active_requests) if (request.time_start or time.time()) < started_before]


class ThreadBeat(bootsteps.StartStopStep):
    """Beat as a thread of the worker (``worker --beat-thread``): the local run's one jobs process per service.

    Celery's own ``worker -B`` forks a second process for beat; a thread costs no second
    interpreter (about 50 MiB less per service, docs/performance.md). Only where exactly
    one worker of the service runs, or there would be several beats: never in compose or
    Kubernetes, which run ``beat`` apart.
    """

    label = "ThreadBeat"
    conditional = True

    def __init__(self, worker, beat_thread=False, **kwargs):
        self.enabled = beat_thread
        super().__init__(worker, **kwargs)

    def create(self, worker):
        from celery.beat import EmbeddedService

        return EmbeddedService(worker.app, thread=True, scheduler_cls=worker.app.conf.beat_scheduler)


def celery_app() -> Celery:
    """Return the service's Celery app: the ``CELERY_*`` settings, every installed app's ``tasks.py``, the heartbeat."""
    # No DJANGO_SETTINGS_MODULE default here: importing a project must not change the environment.
    # The processes start through manage.py (``manage.py celery worker``), which names it.
    app = Celery("config")
    app.config_from_object(CelerySettings())
    app.add_defaults(_service_defaults)
    app.autodiscover_tasks()
    app.steps["worker"].add(WorkerHeartbeat)
    app.user_options["worker"].add(
        Option(["--beat-thread"], is_flag=True, default=False, help="Run beat in a thread of this worker.")
    )
    app.steps["worker"].add(ThreadBeat)
    # The default in every thread, not only the one that made it (``set_current`` is thread-local):
    # a web server's request threads send jobs (``shared_task``) through this app, never Celery's
    # unconfigured default one.
    app.set_default()
    return app
