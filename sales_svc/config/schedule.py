"""sales_svc's default beat schedules (docs/jobs.md): installed once, then edited in the admin.

Watchdogs (every minute: sales orders pending too long, dead-letter queues) go here.
"""

from common.jobs.schedule import retention_schedule

SCHEDULE = {**retention_schedule(events=True)}
