"""System checks of the jobs' settings, so a bad value stops ``migrate`` and the worker's start.

- ``jobs.E001``: a retention (``JOBS["RETENTION_DAYS"]``, ``JOBS["IDEMPOTENCY_HOURS"]``) below its
  minimum: the nightly job would delete inbox records or Idempotency-Key answers still needed.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register

from . import conf


@register(Tags.compatibility, "jobs")
def check_retention(app_configs=None, **kwargs):
    values = conf.jobs_settings()
    return [
        Error(problem, id="jobs.E001") for name in conf.MINIMUMS if (problem := conf.below_minimum(name, values[name]))
    ]
