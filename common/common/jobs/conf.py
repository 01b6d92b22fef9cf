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
}


def jobs_settings() -> dict[str, Any]:
    return {**DEFAULTS, **(getattr(settings, "JOBS", {}) or {})}


def get(name: str) -> Any:
    return jobs_settings()[name]
