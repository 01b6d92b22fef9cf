"""The ``JOBS`` settings dict, with defaults (read on each call, so tests can override)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Sent outbox rows and inbox records older than this go (ERP_RETENTION_DAYS). Inbox records
    # are what makes a redelivery harmless, so keep them longer than any message can wait.
    "RETENTION_DAYS": 14,
    # Idempotency-Key answers older than this go: a client retries within minutes, not a day.
    "IDEMPOTENCY_HOURS": 24,
    # Dotted path of the service's default schedules (``beat_schedule_install``).
    "SCHEDULE": "config.schedule.SCHEDULE",
    # The worker's and beat's heartbeat files (``worker_health worker|beat``): touched this often.
    "HEARTBEAT_SECONDS": 10.0,
    # A job running longer than this is taken for stuck: the worker stops touching its heartbeat
    # file and its liveness probe restarts it (the job, acknowledged late, goes to the next worker).
    # 30 min: RabbitMQ's own consumer_timeout, past which the broker takes the delivery back anyway.
    "STUCK_JOB_SECONDS": 1800.0,
    # How often a beat waiting for the beat lock (another beat of the service holds it) tries again.
    "BEAT_LOCK_RETRY_SECONDS": 5.0,
}


# The least each retention may be: an inbox record is what refuses a redelivered event, an
# Idempotency-Key answer what replays a retried POST, so a 0 (or negative) from the environment
# would let the nightly job delete the ones a redelivery or a retry needs right now.
MINIMUMS: dict[str, int] = {"RETENTION_DAYS": 1, "IDEMPOTENCY_HOURS": 1}


def jobs_settings() -> dict[str, Any]:
    return {**DEFAULTS, **(getattr(settings, "JOBS", {}) or {})}


def below_minimum(name: str, value: Any) -> str | None:
    """Say why ``value`` is not a usable ``JOBS[name]``, or None if it is."""
    least = MINIMUMS.get(name)
    if least is not None and value < least:
        return f'JOBS["{name}"] is {value!r}: it must be at least {least}'
    return None


def get(name: str) -> Any:
    """Return ``JOBS[name]``; a retention below its minimum raises ValueError (jobs.E001 at start says so too)."""
    value = jobs_settings()[name]
    if problem := below_minimum(name, value):
        raise ValueError(problem)
    return value
