"""auth_svc's default beat schedules (docs/jobs.md): installed once, then edited in the admin.

auth_svc consumes no events: it has no dead letters to watch.
"""

from celery.schedules import crontab

from common.jobs.schedule import nightly, retention_schedule

SCHEDULE = {
    **retention_schedule(events=False),
    "retention: refresh tokens": {"task": "accounts.refresh_tokens_prune", "schedule": nightly(15)},
    "retention: password reset tokens": {"task": "accounts.reset_tokens_prune", "schedule": nightly(20)},
    "retention: back-office OAuth tokens and grants": {"task": "accounts.oauth_tokens_prune", "schedule": nightly(25)},
    # Re-sends the reset mails whose job was lost (the queued rows are the source of truth).
    "mail: reset requests sweep": {"task": "accounts.password_reset_requests_sweep", "schedule": crontab(minute="*/5")},
}
