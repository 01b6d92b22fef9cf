"""contact_svc's default beat schedules (docs/jobs.md): installed once, then edited in the admin.

contact_svc consumes no events: it has no dead letters to watch.
"""

from common.jobs.schedule import retention_schedule

SCHEDULE = {**retention_schedule(events=True)}
