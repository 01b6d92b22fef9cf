"""Integrity: run a check command (``check_stock_ledger`` & co.) and never let a difference pass silently.

A check command recomputes a counter from its source rows, prints one line per difference
on its error output and fails (``CommandError``). Run here, a failure is an ERROR log line
naming the command and the differences, and its row in :class:`.models.IntegrityCheck`,
which ``/metrics`` turns into ``erp_integrity_check_failing{check=...}`` and
``erp_integrity_check_differences{check=...}`` (:mod:`.metrics`). A command that cannot run
to its end (a statement timeout, a bug) proved nothing: it counts as failing too, with no
difference counted, or its row would go on showing the last run's pass.

Only the check commands of the service's default schedules run (:func:`integrity_commands`):
the command's name is a schedule's argument, which an admin edits in the back office, and
any other command (``seed_demo``, ``replay_dead_letters``, ``flush``) would run in the
worker as readily.
"""

from __future__ import annotations

import logging
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from .models import IntegrityCheck

logger = logging.getLogger(__name__)

# What a report keeps of a long list of differences (the command can be run by hand for all).
REPORT_MAX_CHARS = 10_000


def integrity_commands() -> set[str]:
    """Return the check commands the service's default schedules run (``integrity_schedule``)."""
    from .beat import schedule_defaults

    return {entry["args"][0] for entry in schedule_defaults().values() if entry["task"] == "jobs.integrity_check"}


def integrity_check_run(*, command: str) -> IntegrityCheck:
    """Run one check command; record and return its result, logging an ERROR line if it found differences.

    A command that is not one of :func:`integrity_commands` is refused (ValueError), and runs not.
    """
    if command not in integrity_commands():
        raise ValueError(f"{command!r} is not a check command of this service's schedules: not run")
    out, err = StringIO(), StringIO()
    try:
        call_command(command, stdout=out, stderr=err)
    except CommandError as exc:
        lines = [line for line in err.getvalue().splitlines() if line.strip()]
        report = "\n".join([str(exc), *lines])[:REPORT_MAX_CHARS]
        passed, differences = False, max(len(lines), 1)
        logger.error("integrity check %s failed: %s", command, report)
    except Exception as exc:
        passed, differences = False, 0
        report = f"could not run: {type(exc).__name__}: {exc}"[:REPORT_MAX_CHARS]
        logger.exception("integrity check %s could not run", command)
    else:
        passed, differences, report = True, 0, out.getvalue().strip()[:REPORT_MAX_CHARS]
        logger.info("integrity check %s passed", command)
    result, _ = IntegrityCheck.objects.update_or_create(
        command=command,
        defaults={"ran_at": timezone.now(), "passed": passed, "differences": differences, "report": report},
    )
    return result
