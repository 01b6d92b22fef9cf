"""The relay's lock query walks the pending index: rows already sent cost it nothing on later turns.

Marking a row sent leaves its entry in the partial index ``events_outbox_pending`` until VACUUM.
An index scan marks the entries of rows sent for good as dead as it passes them (btree's
``kill_prior_tuple``), so the next turn skips them; a bitmap scan reads every such row again on
every turn of every relay, and a sequential scan the whole outbox. Which one the planner picks
follows the statistics and the pricing: a table not analysed yet (a young one) gets a bitmap scan,
one analysed during a backlog, with random reads priced high, a sequential scan. The relay's
transaction rules both out."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.events.models import OutboxEvent
from common.events.relay import Relay

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_relay_finds_pending_rows_by_an_index_scan_of_the_pending_index(postgres, events_settings):
    # given: 2,000 events of a usual size written (each entered in the pending index), analysed while a backlog of
    # 1,000 was pending, and then all marked sent
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

    # when: a relay takes its turn
    relay = Relay(listen=False)
    try:
        with CaptureQueriesContext(connection) as queries:
            assert relay.relay_batch() == 0
    finally:
        relay.close()

    # then: the lock query, planned as in the relay's transaction, is an index scan of the pending index
    statements = [query["sql"] for query in queries.captured_queries]
    locking = [sql for sql in statements if sql.startswith("SELECT") and "FOR UPDATE SKIP LOCKED" in sql]
    assert len(locking) == 1, statements
    with transaction.atomic(), connection.cursor() as cursor:
        # Random reads priced as a spinning disk's: the planner would now rather read the table whole.
        cursor.execute("SET LOCAL random_page_cost = 40")
        for sql in statements[: statements.index(locking[0])]:
            if "set_config" in sql:  # what the relay's transaction set before its query
                cursor.execute(sql)
        cursor.execute(f"EXPLAIN {locking[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using events_outbox_pending" in plan, plan
    assert "Bitmap" not in plan and "Seq Scan" not in plan, plan
