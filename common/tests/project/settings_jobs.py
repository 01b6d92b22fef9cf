"""The test project as a real Celery worker or beat runs it (tests/jobs/test_processes.py).

The test project's test settings, with the jobs sent to the broker rather than run in the
sender's process, and the jobs' clocks shortened so that a test sees a heartbeat, a stuck
job or a takeover in seconds.
"""

from .settings_test import *  # noqa: F403 (the test project's test settings)

CELERY_TASK_ALWAYS_EAGER = False
JOBS = {
    **JOBS,  # noqa: F405
    "SCHEDULE": "tests.jobs.schedule_fixture.SCHEDULE",
    "HEARTBEAT_SECONDS": 0.2,
    "STUCK_JOB_SECONDS": 8.0,
    "BEAT_LOCK_RETRY_SECONDS": 0.2,
}
