"""Start a service's process as deploy/Procfile says, from a test: a real Celery worker or beat.

:func:`procfile_command` is the Procfile's line of a process, :func:`database_url` the URL of
the database the test runs on, for the process to use the same rows; :func:`wait_for_start`
waits until a process the test started answers, and :func:`stop_process` until it has stopped.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest
from django.db import connection
from honcho.environ import parse_procfile

from common.settings.env import REPO_ROOT

PROCFILE = REPO_ROOT / "deploy" / "Procfile"


def procfile_command(role: str) -> str:
    """Return deploy/Procfile's command of ``role`` (``worker``, ``beat``...), for ``/bin/sh -c``."""
    return dict(parse_procfile(PROCFILE.read_text()).processes)[role]


def database_url() -> str:
    """Return the URL of the PostgreSQL database the test runs on (the test database, not the service's)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


# Seconds a process a test starts may take to answer, and to stop once asked: its imports and Django's setup, or
# gunicorn's graceful stop (10 s for its workers) and its exit, on a 2-core machine the test command keeps busy with
# five suites at once (a gunicorn took more than 30 s to answer there, one more than 15 s to stop). Bounds, not waits.
STARTED_WITHIN = 90.0
STOPPED_WITHIN = 60.0


def wait_for_start(process: subprocess.Popen, answers: Callable[[], bool], what: str) -> None:
    """Wait until ``answers()``; fail the test at once if ``process`` exits first, or after :data:`STARTED_WITHIN`."""
    deadline = time.monotonic() + STARTED_WITHIN
    while not answers():
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode} before it answered")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer within {STARTED_WITHIN:.0f} s")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen, what: str) -> None:
    """SIGTERM ``process`` and wait until it has exited; kill it and fail the test after :data:`STOPPED_WITHIN`."""
    process.terminate()
    try:
        process.wait(timeout=STOPPED_WITHIN)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"{what} did not stop within {STOPPED_WITHIN:.0f} s of a SIGTERM")
