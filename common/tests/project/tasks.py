"""A job of the test project's own, for the tests that run a real worker (tests/jobs/test_processes.py)."""

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.job_until_released")
def job_until_released(started: str, release: str) -> None:
    """Touch the file ``started``, then run until the file ``release`` exists: a job as long as its test wants."""
    Path(started).touch()
    while not Path(release).exists():
        time.sleep(0.05)
