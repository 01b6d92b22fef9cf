"""Table sizes after a simulated month of steady traffic, without and with the nightly retention jobs.

Runs in sales_svc's project (outbox, inbox, idempotency keys, admin sessions: the tables every
service with events has) against a scratch database it migrates: each simulated day writes
``--per-day`` rows into each table, dated that day; with ``--jobs`` the nightly retention
jobs run at the end of each day with the clock at that night. Prints rows and on-disk size
per table. Loopback only; the database is the one named, never dropped.

    .venv/bin/python bench/retention_month.py --database-url postgres://postgres@127.0.0.1:5432/bench_retention
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("events_outboxevent", "events_inboxevent", "idempotency_idempotencyrecord", "django_session")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=2000)
    args = parser.parse_args()
    os.environ.update(
        {"DJANGO_DEBUG": "1", "DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    )
    os.chdir(ROOT / "sales_svc")
    sys.path.insert(0, str(ROOT / "sales_svc"))
    import django

    django.setup()
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from common.events.models import InboxEvent, OutboxEvent
    from common.idempotency.models import IdempotencyRecord
    from common.jobs import tasks

    call_command("migrate", verbosity=0)

    def sizes() -> dict[str, tuple[int, int]]:
        result = {}
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")  # noqa: S608
                result[table] = cursor.fetchone()
        return result

    def simulate(*, jobs: bool) -> dict[str, tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)}")  # fresh files: no dead space of the other run
        start = timezone.now() - timedelta(days=args.days)
        for day in range(args.days):
            moment = start + timedelta(days=day)
            OutboxEvent.objects.bulk_create(
                OutboxEvent(
                    event_id=uuid.uuid4(),
                    event_type="sales.order.confirmed",
                    version=1,
                    producer="sales",
                    aggregate_id=str(uuid.uuid4()),
                    occurred_at=moment,
                    payload='{"data": {"lines": [1, 2, 3]}}',
                    sent_at=moment,
                )
                for _ in range(args.per_day)
            )
            InboxEvent.objects.bulk_create(
                InboxEvent(
                    event_id=uuid.uuid4(),
                    consumer="sales",
                    event_type="inventory.stock.issued",
                    version=1,
                    received_at=moment,
                )
                for _ in range(args.per_day)
            )
            records = IdempotencyRecord.objects.bulk_create(
                IdempotencyRecord(
                    caller="u",
                    key=str(uuid.uuid4()),
                    request_hash="h" * 64,
                    status_code=201,
                    response_body=b'{"status": 201}' * 20,
                )
                for _ in range(args.per_day)
            )
            IdempotencyRecord.objects.filter(pk__in=[r.pk for r in records]).update(created_at=moment)
            Session.objects.bulk_create(
                Session(session_key=uuid.uuid4().hex, session_data="x" * 200, expire_date=moment + timedelta(hours=12))
                for _ in range(args.per_day // 20)
            )
            if jobs:
                with mock.patch("django.utils.timezone.now", return_value=moment + timedelta(hours=23)):
                    tasks.idempotency_prune()
                    tasks.events_prune()
                    tasks.sessions_prune()
                with connection.cursor() as cursor:
                    for table in TABLES:
                        cursor.execute(f"VACUUM {table}")  # autovacuum's part: the freed space is reused
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"VACUUM {table}")  # what autovacuum does: freed space is reused, not returned
        return sizes()

    without, with_jobs = simulate(jobs=False), simulate(jobs=True)
    print(f"{args.days} days x {args.per_day} rows/day per table (sessions: {args.per_day // 20}/day)")
    print(f"{'table':<32}{'rows, no jobs':>15}{'MiB':>8}{'rows, nightly':>15}{'MiB':>8}")
    for table in TABLES:
        (rows_a, size_a), (rows_b, size_b) = without[table], with_jobs[table]
        print(f"{table:<32}{rows_a:>15}{size_a / 2**20:>8.1f}{rows_b:>15}{size_b / 2**20:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
