"""Readiness check for the outbox: fails when the relay is stuck.

Add ``"common.events.health.check_outbox"`` to ``settings.ERP["READINESS_CHECKS"]``
in a service that publishes events.
"""

from __future__ import annotations

from django.utils import timezone

from . import conf
from .models import OutboxEvent


class OutboxStuck(Exception):
    pass


def oldest_pending_age() -> float | None:
    """Seconds since the oldest pending event occurred, or None if nothing is pending."""
    oldest = OutboxEvent.objects.filter(sent_at__isnull=True).order_by("id").values_list("occurred_at", flat=True)
    first = oldest.first()
    return None if first is None else max(0.0, (timezone.now() - first).total_seconds())


def check_outbox() -> None:
    age = oldest_pending_age()
    limit = float(conf.get("OUTBOX_MAX_AGE"))
    if age is not None and age > limit:
        raise OutboxStuck(f"oldest pending event is {age:.0f}s old (limit {limit:.0f}s): is relay_outbox running?")
