"""Start a service's process as deploy/Procfile says, from a test: a real Celery worker or beat.

:func:`procfile_command` is the Procfile's line of a process, :func:`database_url` the URL of
the database the test runs on, for the process to use the same rows, and :func:`wait_for_start`
waits until a process the test started answers.
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


# Seconds a process a test starts may take to answer: its imports and Django's setup, on a 2-core machine the test
# command keeps busy with five suites at once (a gunicorn took more than 30 s there). A bound, not a wait.
STARTED_WITHIN = 90.0


def wait_for_start(process: subprocess.Popen, answers: Callable[[], bool], what: str) -> None:
    """Wait until ``answers()``; fail the test at once if ``process`` exits first, or after :data:`STARTED_WITHIN`."""
    deadline = time.monotonic() + STARTED_WITHIN
    while not answers():
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode} before it answered")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer within {STARTED_WITHIN:.0f} s")
        time.sleep(0.1)
