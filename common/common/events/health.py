"""The outbox backlog, for the readiness body, ``/metrics`` and ``manage.py outbox_status``.

A backlog is reported, never a reason to be unready (contract §1): while the broker
is away the outbox is exactly what lets writes go on. An alert watches the age of
the oldest pending event (``erp_outbox_oldest_pending_age_seconds``) instead.
"""

from __future__ import annotations

from django.utils import timezone

from .models import OutboxEvent


def oldest_pending_age() -> float | None:
    """Seconds since the oldest pending event occurred, or None if nothing is pending."""
    oldest = OutboxEvent.objects.filter(sent_at__isnull=True).order_by("id").values_list("occurred_at", flat=True)
    first = oldest.first()
    return None if first is None else max(0.0, (timezone.now() - first).total_seconds())


def outbox_backlog() -> dict[str, float | int | None]:
    """Return ``{"pending": N, "oldest_pending_age_seconds": s or None}``."""
    age = oldest_pending_age()
    return {
        "pending": OutboxEvent.objects.filter(sent_at__isnull=True).count(),
        "oldest_pending_age_seconds": None if age is None else round(age, 3),
    }
