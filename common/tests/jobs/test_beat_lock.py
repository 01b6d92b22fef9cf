"""The beat lock: one holder per service database, given back when its session or process ends."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.db import connection

from common.jobs import beat
from common.jobs.app import celery_app
from common.jobs.beat import DatabaseScheduler
from common.jobs.beat_lock import FileBeatLock, PostgresBeatLock, beat_lock, file_lock_path
from erp_testkit.faults import wait_until

pytestmark = pytest.mark.django_db


def _session_end(lock: PostgresBeatLock) -> None:
    """End the lock's database session from outside, as a server restart or a cut link would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [lock._holder_pid])


def test_on_postgresql_a_second_beat_is_refused_the_lock_until_the_first_gives_it_back():
    # given
    first, second = beat_lock(), beat_lock()
    assert isinstance(first, PostgresBeatLock)
    assert first.try_acquire() is True

    # when / then
    assert second.try_acquire() is False
    assert (first.is_held(), second.is_held()) == (True, False)
    first.release()
    assert second.try_acquire() is True
    assert (first.is_held(), second.is_held()) == (False, True)
    second.release()


def test_on_postgresql_the_lock_works_beside_the_apps_that_set_up_every_new_connection(settings):
    # given: django.contrib.postgres (inventory_svc's, for its trigram indexes), whose connection_created
    # receiver looks the new connection's alias up in django.db.connections
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django.contrib.postgres"]
    lock = beat_lock()

    # when / then
    assert lock.try_acquire() is True
    assert lock.is_held() is True
    lock.release()


def test_on_postgresql_a_holder_whose_session_ended_knows_it_lost_the_lock_and_another_takes_it():
    # given
    first, second = beat_lock(), beat_lock()
    assert first.try_acquire() is True

    # when
    _session_end(first)

    # then: the first holds nothing, even on a fresh session; the second takes the lock (once
    # the server has freed it: the ended session's process goes a moment later)
    assert first.is_held() is False
    wait_until(second.try_acquire, message="the ended session's lock to be free")
    assert first.try_acquire() is False
    second.release()
    first.release()


def test_on_sqlite_the_lock_is_a_file_beside_the_database_one_holder_at_a_time(tmp_path):
    # given
    path = file_lock_path(str(tmp_path / "sales.sqlite3"))
    first, second = FileBeatLock(path), FileBeatLock(path)

    # when / then
    assert path == tmp_path / "sales.sqlite3.beat.lock"
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    first.release()
    assert second.try_acquire() is True
    assert first.is_held() is False
    second.release()


def test_a_beat_that_lost_the_lock_sends_nothing_and_waits_for_it_again(settings, caplog):
    # given: a beat holding the lock, whose session then ends; another beat takes the lock
    settings.JOBS = {**settings.JOBS, "SCHEDULE": "tests.jobs.schedule_fixture.SCHEDULE"}
    scheduler = DatabaseScheduler.__new__(DatabaseScheduler)
    scheduler.app = celery_app()
    scheduler._dirty = set()
    with mock.patch.object(beat._DatabaseScheduler, "setup_schedule"):
        scheduler.lock_hold()
    _session_end(scheduler._lock)
    other = beat_lock()
    wait_until(other.try_acquire, message="the ended session's lock to be free")

    # when: its next tick, stopped while it waits
    caplog.clear()
    with (
        mock.patch.object(beat.time, "sleep", side_effect=SystemExit),
        mock.patch.object(beat._DatabaseScheduler, "tick") as sent,
        caplog.at_level(logging.WARNING, logger="common.jobs.beat"),
        pytest.raises(SystemExit),
    ):
        scheduler.tick()

    # then: nothing sent; it said it lost the lock, then that another beat holds it
    sent.assert_not_called()
    assert [(record.levelname, record.getMessage()[:40]) for record in caplog.records] == [
        ("ERROR", "beat: lost the beat lock (its database s"),
        ("WARNING", "beat: another beat of commontest holds t"),
    ]
    other.release()
    scheduler._lock.release()


def test_on_postgresql_the_server_frees_the_lock_of_a_vanished_beat_within_half_a_minute():
    # given: a lost node or a cut link ends nothing by itself (no FIN reaches the server); the
    # server's own keepalives on the lock's session are what end it, and free the lock
    lock = beat_lock()
    assert lock.try_acquire() is True

    # when: the lock's session is asked for its settings (the server's, for this session only)
    with lock._connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name LIKE 'tcp\\_keepalives\\_%%' OR name = 'tcp_user_timeout'"
            " ORDER BY name"
        )
        session = cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute("SHOW tcp_keepalives_idle")
        (djangos_idle,) = cursor.fetchone()

    # then: probes after 10 s idle, every 5 s, 3 unanswered end it (25 s); unacknowledged data, 30 s
    assert session == [
        ("tcp_keepalives_count", "3"),
        ("tcp_keepalives_idle", "10"),
        ("tcp_keepalives_interval", "5"),
        ("tcp_user_timeout", "30000"),
    ]
    assert djangos_idle != "10"  # the session's own, not the server's for everybody
    lock.release()
