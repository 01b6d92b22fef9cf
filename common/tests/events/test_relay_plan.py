"""The relay's claim walks the pending index: rows already sent cost it nothing on later turns.

Marking a row sent leaves its entry in the partial index ``events_outbox_pending`` until VACUUM.
An index scan marks the entries of rows sent for good as dead as it passes them (btree's
``kill_prior_tuple``), so the next turn skips them; a bitmap scan reads every such row again on
every turn of every relay, and a sequential scan the whole outbox. Which one the planner picks
follows the statistics and the pricing: a table not analysed yet (a young one) gets a bitmap scan,
one analysed during a backlog, with random reads priced high, a sequential scan. The relay's
transaction rules both out."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django.utils import timezone

from common.events.health import outbox_backlog
from common.events.models import OutboxEvent
from common.events.relay import Relay

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outbox_once_busy(postgres):
    """2,000 events of a usual size written (each entered in the pending index) and marked sent, the outbox analysed
    while a backlog of 1,000 was pending: statistics on which the planner would rather read the table whole."""
    now = timezone.now()
    OutboxEvent.objects.bulk_create(
        OutboxEvent(
            event_id=uuid.uuid4(),
            event_type="sales.order.paid",
            version=1,
            producer="sales",
            aggregate_id="x",
            payload="{" + " " * 900 + "}",
            occurred_at=now,
        )
        for _ in range(2_000)
    )
    OutboxEvent.objects.filter(id__in=OutboxEvent.objects.order_by("id").values("id")[:1_000]).update(sent_at=now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_outboxevent")
    OutboxEvent.objects.filter(sent_at=None).update(sent_at=now)


@contextlib.contextmanager
def plans_of_pending_reads() -> Iterator[list[str]]:
    """Collect the plan of every query of pending rows run in the block, asked in the query's own transaction just
    before it runs, with random reads priced as a spinning disk's (where a whole-table read would look cheapest)."""
    plans: list[str] = []

    def explain_first(execute, sql, params, many, context):
        if 'sent_at" IS NULL' in sql and sql.startswith(("SELECT", "UPDATE")):
            raw = context["cursor"].cursor
            raw.execute("SET LOCAL random_page_cost = 40")
            raw.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in raw.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_first):
        yield plans


def _walks_the_pending_index(plan: str) -> bool:
    return "using events_outbox_pending" in plan and "Bitmap" not in plan and "Seq Scan" not in plan


def test_the_relay_finds_pending_rows_by_an_index_scan_of_the_pending_index(outbox_once_busy, events_settings):
    # when: a relay takes its turn
    relay = Relay(listen=False)
    try:
        with plans_of_pending_reads() as plans:
            assert relay.relay_batch() == 0
    finally:
        relay.close()

    # then: its claim, planned in its transaction, locks what it finds by walking the pending index
    [plan] = plans
    assert "FOR UPDATE" in plan or "LockRows" in plan, plan
    assert _walks_the_pending_index(plan), plan


def test_the_backlog_reads_the_pending_index_too(outbox_once_busy):
    # when: the readiness body, /metrics or outbox_status reads the backlog
    with plans_of_pending_reads() as plans:
        assert outbox_backlog() == {"pending": 0, "oldest_pending_age_seconds": None}

    # then: its oldest row and its count, each planned in its transaction, walk the pending index
    assert len(plans) == 2, plans
    assert all(_walks_the_pending_index(plan) for plan in plans), "\n\n".join(plans)
