"""Start a service's process as deploy/Procfile says, from a test: a real Celery worker or beat.

:func:`procfile_command` is the Procfile's line of a process, :func:`database_url` the URL of
the database the test runs on, for the process to use the same rows.
"""

from __future__ import annotations

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
