"""Small read-only figures the back office's home asks each service for (contract §5, docs/back-office.md).

:func:`per_day` is the one day-by-day series sales (orders confirmed) and purchase (receipts)
both answer: one aggregate query over an indexed timestamp, whatever the number of rows.
:class:`DeadLettersView` (``GET /events/dead-letters``, every consuming service, admin only)
says how many events this service's dead-letter queue holds, as the last broker probe
counted them (the figure ``/metrics`` publishes as ``erp_events_dead_letters``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .authentication import home_summary
from .roles import roles_text

# The series' length: the last 30 UTC days, today included.
SUMMARY_DAYS = 30
EVENTS_READ = "events.read"


def per_day(
    queryset: QuerySet, *, field: str, aggregates: dict[str, Any], empty: dict[str, Any], now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Return one row per UTC day of the last ``SUMMARY_DAYS``, oldest first: ``{"date", **aggregates}``.

    A day without rows has ``empty``'s values, so a chart has all its days. The rows are
    grouped by the database (``field`` truncated to its UTC date) from the first day's midnight
    on: an index on ``field`` serves the range.
    """
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    first_day = today - dt.timedelta(days=SUMMARY_DAYS - 1)
    since = dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.UTC)
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field, tzinfo=dt.UTC))
        .values("day")
        .annotate(**aggregates)
        .order_by("day")
    )
    found = {row.pop("day"): row for row in rows}
    days = (first_day + dt.timedelta(days=offset) for offset in range(SUMMARY_DAYS))
    return [{"date": day, **found.get(day, empty)} for day in days]


class DeadLettersSerializer(serializers.Serializer):
    queue = serializers.CharField(allow_null=True, help_text="This service's dead-letter queue (null: none here).")
    dead_letters = serializers.IntegerField(
        allow_null=True, help_text="Events it holds, as the last broker probe counted them (null: not known now)."
    )


def dead_letter_count() -> dict[str, Any]:
    """Return this service's DLQ and how many events it holds (``None``: no DLQ here, or no probe has counted it)."""
    from .events import conf
    from .events.topology import Topology
    from .health import broker_status, queue_report

    if not conf.consumes():
        return {"queue": None, "dead_letters": None}
    broker_status()  # starts a probe when the last one is older than its cache (never waits long)
    dlq = Topology().dlq_name(conf.consumer_name())
    counts = queue_report().get(dlq)
    return {"queue": dlq, "dead_letters": counts["messages"] if counts else None}


class DeadLettersView(APIView):
    required_permissions: ClassVar[dict[str, str]] = {"get": EVENTS_READ}

    @extend_schema(
        operation_id="events_dead_letters",
        summary="Count this service's dead letters",
        description="The events parked in this service's dead-letter queue, as its last broker probe (a few "
        "seconds old at most) counted them; `manage.py replay_dead_letters --dry-run` says why each is there. "
        f"Not routed by the gateway (the back office's home asks each service). {roles_text(EVENTS_READ)}",
        responses={200: DeadLettersSerializer},
    )
    @home_summary
    def get(self, request):
        return Response(DeadLettersSerializer(dead_letter_count()).data)
