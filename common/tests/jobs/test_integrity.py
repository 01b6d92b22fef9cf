"""The nightly integrity job: a difference is an ERROR line and a metric, never a silent pass."""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError
from rest_framework.test import APIClient

from common.jobs import tasks
from common.jobs.models import IntegrityCheck
from tests.project.management.commands import check_gadgets
from tests.project.models import Gadget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _schedules(settings):
    # The service's default schedules, which name its check commands (check_gadgets here).
    settings.JOBS = {**settings.JOBS, "SCHEDULE": "tests.jobs.schedule_fixture.SCHEDULE"}


def _metrics() -> list[str]:
    return [line for line in APIClient().get("/metrics").content.decode().splitlines() if "integrity" in line]


def test_a_check_that_finds_differences_logs_an_error_and_sets_the_metric(caplog):
    # given: two differences
    for name in ("broken-b", "broken-a", "fine"):
        Gadget.objects.create(name=name)

    # when
    with caplog.at_level(logging.INFO):
        passed = tasks.integrity_check("check_gadgets")

    # then: an ERROR line naming the command and each difference
    assert passed is False
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == (
        "integrity check check_gadgets failed: 2 gadget(s) differ.\nbroken-a: differs\nbroken-b: differs"
    )
    # and the result is kept, and reported by /metrics
    check = IntegrityCheck.objects.get()
    assert (check.command, check.passed, check.differences) == ("check_gadgets", False, 2)
    assert 'erp_integrity_check_failing{check="check_gadgets"} 1.0' in _metrics()
    assert 'erp_integrity_check_differences{check="check_gadgets"} 2.0' in _metrics()


def test_a_check_that_passes_replaces_the_failure_and_logs_no_error(caplog):
    # given: a failed run, then the difference mended
    Gadget.objects.create(name="broken")
    tasks.integrity_check("check_gadgets")
    Gadget.objects.filter(name="broken").update(name="mended")
    caplog.clear()

    # when
    with caplog.at_level(logging.INFO):
        passed = tasks.integrity_check("check_gadgets")

    # then
    assert passed is True
    assert [r.levelno for r in caplog.records if r.name == "common.jobs.integrity"] == [logging.INFO]
    check = IntegrityCheck.objects.get()
    assert (check.passed, check.differences, check.report) == (True, 0, "gadgets: 1 checked, all equal")
    assert 'erp_integrity_check_failing{check="check_gadgets"} 0.0' in _metrics()


def test_a_check_that_cannot_run_counts_as_failing_not_as_its_last_pass(caplog, monkeypatch):
    # given: a passed run, then the check's query cut short by the database
    Gadget.objects.create(name="fine")
    tasks.integrity_check("check_gadgets")

    def statement_timeout(*args, **options):
        raise DatabaseError("canceling statement due to statement timeout")

    monkeypatch.setattr(check_gadgets.Command, "handle", statement_timeout)
    caplog.clear()

    # when
    with caplog.at_level(logging.INFO):
        passed = tasks.integrity_check("check_gadgets")

    # then: an ERROR line with the cause, and the metric says failing, not the last pass
    assert passed is False
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == "integrity check check_gadgets could not run"
    assert error.exc_info[0] is DatabaseError
    check = IntegrityCheck.objects.get()
    assert (check.passed, check.differences, check.report) == (
        False,
        0,
        "could not run: DatabaseError: canceling statement due to statement timeout",
    )
    assert 'erp_integrity_check_failing{check="check_gadgets"} 1.0' in _metrics()
    assert 'erp_integrity_check_differences{check="check_gadgets"} 0.0' in _metrics()


@pytest.mark.parametrize("command", ["seed_demo_gadgets", "flush", "check_no_such_thing"])
def test_a_command_no_default_schedule_names_is_refused_and_not_run(command, monkeypatch):
    # given: an admin's schedule naming another command as the check to run
    ran = []
    monkeypatch.setattr("common.jobs.integrity.call_command", lambda *args, **kwargs: ran.append(args))

    # when / then: refused, nothing run, nothing recorded
    with pytest.raises(ValueError, match=f"'{command}' is not a check command of this service's schedules"):
        tasks.integrity_check(command)
    assert ran == []
    assert IntegrityCheck.objects.count() == 0
