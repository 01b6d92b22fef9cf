"""Beat's default schedules: installed once, then the admin's; beat's and the worker's heartbeats."""

from __future__ import annotations

import json
import logging
import threading
import time
from io import StringIO
from types import SimpleNamespace
from unittest import mock

import pytest
from celery import Celery, current_app
from celery import _state as celery_state
from celery.worker import control
from celery.worker import state as worker_state
from django.conf import settings as django_settings
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from common.events import liveness
from common.jobs import beat
from common.jobs.app import WorkerHeartbeat, celery_app, service_queue
from common.jobs.beat import DatabaseScheduler
from common.jobs.beat_lock import beat_lock

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "retention: idempotency keys": ("jobs.idempotency_prune", "0 3 * * *"),
    "retention: expired sessions": ("jobs.sessions_prune", "5 3 * * *"),
    "retention: sent outbox and inbox": ("jobs.events_prune", "10 3 * * *"),
    "integrity: check_gadgets": ("jobs.integrity_check", "30 3 * * *"),
}


@pytest.fixture(autouse=True)
def _schedule(settings):
    settings.JOBS = {**settings.JOBS, "SCHEDULE": "tests.jobs.schedule_fixture.SCHEDULE"}


def _crontabs() -> dict[str, tuple[str, str]]:
    return {
        task.name: (task.task, f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}")
        for task in PeriodicTask.objects.exclude(crontab=None).select_related("crontab")
        for c in [task.crontab]
    }


def test_the_command_installs_every_default_schedule_once():
    # when: run twice
    outputs = []
    for _ in range(2):
        out = StringIO()
        with mock.patch(
            "common.jobs.management.commands.beat_schedule_install.import_string", return_value=celery_app()
        ):
            call_command("beat_schedule_install", stdout=out)
        outputs.append(out.getvalue().strip())

    # then
    assert _crontabs() == DEFAULTS
    watchdog = PeriodicTask.objects.get(name="every minute: a watchdog")
    assert (watchdog.interval.every, watchdog.interval.period) == (60, "seconds")
    assert json.loads(PeriodicTask.objects.get(name="integrity: check_gadgets").args) == ["check_gadgets"]
    assert outputs[1] == "beat schedules: 0 created"
    assert outputs[0].startswith("beat schedules: 5 created (retention: idempotency keys, ")


def _scheduler() -> DatabaseScheduler:
    """Beat's scheduler without django-celery-beat's own start-up (which closes the test's connection)."""
    scheduler = DatabaseScheduler.__new__(DatabaseScheduler)
    scheduler.app = celery_app()
    scheduler._dirty = set()
    return scheduler


def _take_lock(scheduler: DatabaseScheduler) -> None:
    """What beat's first tick does: take the beat lock, install the defaults, read the schedules."""
    with mock.patch.object(beat._DatabaseScheduler, "setup_schedule"):
        scheduler.lock_hold()


def _close(scheduler: DatabaseScheduler) -> None:
    """Stop the scheduler as beat does, but for django-celery-beat's part (which closes the test's connection)."""
    with mock.patch.object(beat._DatabaseScheduler, "close"):
        scheduler.close()


def test_beat_installs_the_defaults_once_it_holds_the_lock_and_an_admins_edit_stays():
    # given: beat started once, then one default disabled and one moved by an admin
    first = _scheduler()
    _take_lock(first)
    _close(first)
    PeriodicTask.objects.filter(name="retention: expired sessions").update(enabled=False)
    moved = PeriodicTask.objects.get(name="retention: idempotency keys")
    moved.crontab.hour = "4"
    moved.crontab.save()

    # when: beat starts again
    again = _scheduler()
    with mock.patch.object(beat._DatabaseScheduler, "setup_schedule") as loaded:
        again.lock_hold()
    _close(again)

    # then: nothing changed, and django-celery-beat then loaded the schedules from the tables
    assert _crontabs() == {**DEFAULTS, "retention: idempotency keys": ("jobs.idempotency_prune", "0 4 * * *")}
    assert PeriodicTask.objects.get(name="retention: expired sessions").enabled is False
    assert PeriodicTask.objects.count() == 5
    loaded.assert_called_once_with()


def test_a_beat_waiting_for_the_lock_reads_and_installs_nothing(settings):
    # given: the lock held by another beat
    settings.JOBS = {**settings.JOBS, "BEAT_LOCK_RETRY_SECONDS": 0.01}
    other = beat_lock()
    assert other.try_acquire()
    scheduler = _scheduler()

    # when: its first tick tries the lock twice, then stops (as a SIGTERM would)
    with (
        mock.patch.object(beat.time, "sleep", side_effect=[None, SystemExit]),
        mock.patch.object(beat._DatabaseScheduler, "setup_schedule") as loaded,
        pytest.raises(SystemExit),
    ):
        scheduler.tick()
    other.release()
    _close(scheduler)

    # then
    assert PeriodicTask.objects.count() == 0
    loaded.assert_not_called()


def test_beat_touches_its_heartbeat_on_every_tick_and_clears_it_when_it_stops(tmp_path, settings):
    # given
    settings.ERP_EVENTS = {**getattr(settings, "ERP_EVENTS", {}), "WORKER_HEARTBEAT_FILE": str(tmp_path / "{role}")}
    scheduler = _scheduler()
    _take_lock(scheduler)

    # when
    with mock.patch.object(beat._DatabaseScheduler, "tick", return_value=5.0) as ticked:
        scheduler.tick()
    alive = liveness.age("beat")
    with mock.patch.object(beat._DatabaseScheduler, "close"):
        scheduler.close()

    # then
    ticked.assert_called_once_with()
    assert alive is not None and alive < 5
    assert liveness.age("beat") is None


def test_the_worker_heartbeat_beats_on_the_workers_timer_and_clears_at_stop(tmp_path, settings):
    # given
    settings.ERP_EVENTS = {**getattr(settings, "ERP_EVENTS", {}), "WORKER_HEARTBEAT_FILE": str(tmp_path / "{role}")}
    worker = mock.Mock()
    step = WorkerHeartbeat(worker)

    # when
    step.start(worker)
    alive = liveness.age("worker")
    step.stop(worker)

    # then: beaten now, then every HEARTBEAT_SECONDS on the worker's timer
    assert alive is not None and alive < 5
    worker.timer.call_repeatedly.assert_called_once_with(10.0, step.beat_unless_stuck)
    assert liveness.age("worker") is None


def test_the_worker_heartbeat_stops_while_a_job_runs_past_the_stuck_bound(tmp_path, settings, monkeypatch, caplog):
    # given: the worker running one job, started 31 min ago (STUCK_JOB_SECONDS: 30 min)
    settings.ERP_EVENTS = {**getattr(settings, "ERP_EVENTS", {}), "WORKER_HEARTBEAT_FILE": str(tmp_path / "{role}")}
    job = mock.Mock(id="7f3c", time_start=time.time() - 31 * 60)
    job.name = "jobs.events_prune"
    monkeypatch.setattr(worker_state, "active_requests", {job})
    step = WorkerHeartbeat(mock.Mock())

    # when: the timer fires twice
    with caplog.at_level(logging.ERROR, logger="common.jobs.app"):
        step.beat_unless_stuck()
        step.beat_unless_stuck()

    # then: no heartbeat, and one ERROR naming the job
    assert liveness.age("worker") is None
    assert [record.getMessage() for record in caplog.records] == [
        "job jobs.events_prune[7f3c] has run for more than 1800.0s: taken for stuck, the worker stops its heartbeat "
        "so that its liveness probe restarts it"
    ]

    # when: the job had started 29 min ago instead
    job.time_start = time.time() - 29 * 60
    step.beat_unless_stuck()

    # then: a long job, not a stuck one: the worker beats
    assert liveness.age("worker") is not None


def test_each_service_has_a_queue_and_control_exchange_of_its_own(settings):
    # when
    app = celery_app()

    # then: named after the service, so services sharing a broker never take each other's jobs
    assert service_queue() == "commontest.jobs"
    assert (app.conf.task_default_queue, app.conf.control_exchange) == ("commontest.jobs", "commontest.jobs")
    assert app.conf.broker_url == settings.BROKER_URL


def test_the_app_is_the_default_of_every_thread_even_if_another_app_was_made_first(monkeypatch):
    # given: some import touched Celery's default app before the service's was made
    monkeypatch.setattr(celery_state, "default_app", Celery("someone else's"))

    # when: the service's app is made, and a request thread (gunicorn's) sends a job
    app = celery_app()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(current_app._get_current_object()))
    thread.start()
    thread.join()

    # then: through the service's app (its broker, its queue), never the other
    assert seen == [app]


def test_celery_inspect_conf_answers_with_no_secret_of_the_services_settings(monkeypatch):
    # given: a secret nested under a service's name (as auth_svc's SERVICE_SECRETS are), and a broker password
    # (set on the settings themselves, as a service's are: pytest-django's fixture wraps them)
    monkeypatch.setattr(celery_state, "default_app", celery_state.default_app)
    monkeypatch.setattr(django_settings, "ERP", {**django_settings.ERP, "SECRETS": {"sales": "sales-secret-123"}})
    monkeypatch.setattr(django_settings, "CELERY_BROKER_URL", "amqp://erp:broker-pass-456@rabbitmq:5672/erp")
    app = celery_app()

    # when: a worker answers `celery inspect conf` (its remote control, open to the whole broker)
    answer = json.dumps(control.conf(SimpleNamespace(app=app)))

    # then: Celery's own settings, the broker's password masked, nothing else of Django's
    assert "sales-secret-123" not in answer
    assert "broker-pass-456" not in answer
    assert json.loads(answer)["broker_url"] == "amqp://erp:********@rabbitmq:5672/erp"
    assert app.conf.broker_url == "amqp://erp:broker-pass-456@rabbitmq:5672/erp"
    assert "ERP" not in json.loads(answer)
