"""The Celery app of a service with jobs: its ``config/celery.py`` is ``app = celery_app()``.

The Django settings are the configuration (``CELERY_*``: common.settings.service); what
depends on the service is added here as defaults, read once the settings are: its queue
and its remote-control exchange, both named after ``SERVICE_NAME`` (behind the events'
``PREFIX``), so that services sharing one broker (one RabbitMQ vhost, one filesystem
folder) never take each other's jobs, and ``celery inspect`` reaches only this
service's workers.
"""

from __future__ import annotations

from celery import Celery, bootsteps
from click import Option

from common.events.liveness import Heartbeat

from . import conf


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

    With the solo pool the timer turns in the same loop that runs the tasks, so a worker stuck
    in a task stops beating and its liveness probe fails, as a wedged relay's does.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.heartbeat = Heartbeat("worker")
        self.timer_entry = None

    def start(self, worker):
        self.heartbeat.beat()
        self.timer_entry = worker.timer.call_repeatedly(conf.get("HEARTBEAT_SECONDS"), self.heartbeat.beat)

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
        self.heartbeat.clear()


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
    """Return the service's Celery app: Django's settings, every installed app's ``tasks.py``, the heartbeat."""
    # No DJANGO_SETTINGS_MODULE default here: importing a project must not change the environment.
    # The processes start through manage.py (``manage.py celery worker``), which names it.
    app = Celery("config")
    app.config_from_object("django.conf:settings", namespace="CELERY")
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
