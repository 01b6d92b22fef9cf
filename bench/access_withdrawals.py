"""What polling the withdrawn access costs (contract §3, common.withdrawals): auth_svc's side and a poller's.

Sets auth_svc up in this process on a database of its own (``--database-url``, default a
SQLite file in a temporary folder; a PostgreSQL URL names a database this script drops,
makes and drops again), with ``--withdrawals`` users whose access was withdrawn within the window
(spread evenly over its 15 min), and measures, per poll, the CPU time of this process:

- auth_svc: ``GET /internal/access-withdrawals`` through Django (routing, the service token's
  verification, the query, the serializer, the JSON renderer; not the HTTP server), the
  whole window and from a cursor (``since``: the last answer's ``next_since``, a minute
  before it was read, so the answer carries the last minute's withdrawals);
- a poller: what a service or the gateway does with that answer (JSON decoding, reading the
  rows, merging them into its map; not the HTTP client);
- auth_svc's own pollers, which read the table directly (the selector and the merge).

Then the local run's total: the gateway and the five services run two gunicorn workers each
(scripts/gunicorn.conf.py), so ten poll auth_svc over HTTP and auth_svc's two read their table,
each every ``ERP_ACCESS_WITHDRAWALS_POLL_SECONDS`` (2 s). The database server's own CPU is not in
these figures (the wall time per poll is printed beside them).
Usage: .venv/bin/python bench/access_withdrawals.py [--withdrawals 10000] [--polls 30]
       [--database-url postgres://postgres@127.0.0.1:5432/<a database this script may drop and make>]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Web processes of the local run that poll over HTTP, and auth_svc's (scripts/run.py, gunicorn.conf.py).
HTTP_POLLERS = 5 * 2
AUTH_POLLERS = 2
POLL_SECONDS = 2.0


def setup_django(database_url: str) -> None:
    from common.keys import generate_keypair

    private_pem, public_pem = generate_keypair()
    os.environ.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=database_url,
        JWT_PRIVATE_KEY=private_pem,
        JWT_PUBLIC_KEY=public_pem,
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    sys.path.insert(0, str(ROOT / "auth_svc"))
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # as deployed: no query log kept in memory, no debug pages


def fresh_postgres_database(url: str, *, create: bool) -> None:
    """Drop the PostgreSQL database ``url`` names (and make it again if ``create``); nothing for SQLite."""
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if create:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def fill(count: int) -> None:
    """Make ``count`` users, each withdrawn once, stamped evenly over the window's 15 minutes."""
    from accounts.models import User
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    now = timezone.now()
    unusable = make_password(None)
    User.objects.bulk_create(
        [
            User(
                email=f"withdrawn{index}@example.com",
                password=unusable,
                access_version=1,
                access_withdrawn_at=now - timedelta(seconds=900 * index / count),
            )
            for index in range(count)
        ],
        batch_size=2000,
    )


def quiet_minute() -> None:
    """Move every stamp two minutes back: nothing withdrawn in the last minute and more."""
    from accounts.models import User
    from django.db.models import F

    User.objects.update(access_withdrawn_at=F("access_withdrawn_at") - timedelta(minutes=2))


def measure(polls: int, poll: Callable[[], object]) -> tuple[float, float]:
    """Return the median CPU and wall milliseconds of one call of ``poll`` (one warm-up call first)."""
    poll()
    cpu, wall = [], []
    for _ in range(polls):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        poll()
        cpu.append((time.process_time() - cpu_started) * 1000)
        wall.append((time.perf_counter() - wall_started) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--withdrawals", type=int, default=10_000)
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-withdrawals-")
    setup_django(args.database_url or f"sqlite:///{folder}/auth.sqlite3")

    from accounts.selectors import access_withdrawals_since
    from accounts.tokens import access_token_for_service
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from common import withdrawals

    fresh_postgres_database(args.database_url, create=True)
    try:
        call_command("migrate", verbosity=0)
        fill(args.withdrawals)
        client = APIClient(SERVER_NAME="localhost")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for_service(service_name='sales')}")

        def answer(**query) -> bytes:
            response = client.get(withdrawals.PATH, query)
            assert response.status_code == 200, response.content[:300]
            return response.content

        full_body = answer()
        cursor = json.loads(full_body)["data"]["next_since"]
        since_body = answer(since=repr(cursor))

        def poller(body: bytes) -> Callable[[], object]:
            """A poller's work on one answer, into a map that already holds the window (as after its first poll)."""
            table = withdrawals.AccessWithdrawals(
                lambda *, since: withdrawals.window_from_answer(json.loads(body)["data"]),
                poll_seconds=POLL_SECONDS,
                max_age_seconds=5.0,
                backoff_max_seconds=10.0,
            )
            table.sync()
            return table.sync

        def own(since: float | None) -> Callable[[], object]:
            table = withdrawals.AccessWithdrawals(
                access_withdrawals_since, poll_seconds=POLL_SECONDS, max_age_seconds=5.0, backoff_max_seconds=10.0
            )
            table.sync()
            table._cursor = since
            return lambda: (table.sync(), setattr(table, "_cursor", since))

        figures = {
            ("auth", "full"): measure(args.polls, lambda: answer()),
            ("auth", "since"): measure(args.polls, lambda: answer(since=repr(cursor))),
            ("poller", "full"): measure(args.polls, poller(full_body)),
            ("poller", "since"): measure(args.polls, poller(since_body)),
            ("auth's own", "full"): measure(args.polls, own(None)),
            ("auth's own", "since"): measure(args.polls, own(cursor)),
        }
        # A quiet minute (the window full, nothing new): every stamp moved two minutes back, so
        # the minute before a fresh answer's cursor holds none. (A `since` past the cursor is read
        # as the cursor, so a later `since` cannot stand in for it.)
        quiet_minute()
        quiet = json.loads(answer())["data"]["next_since"]
        quiet_body = answer(since=repr(quiet))
        figures |= {
            ("auth", "quiet"): measure(args.polls, lambda: answer(since=repr(quiet))),
            ("poller", "quiet"): measure(args.polls, poller(quiet_body)),
            ("auth's own", "quiet"): measure(args.polls, own(quiet)),
        }
        rows = {
            "full": len(json.loads(full_body)["data"]["withdrawals"]),
            "since": len(json.loads(since_body)["data"]["withdrawals"]),
            "quiet": len(json.loads(quiet_body)["data"]["withdrawals"]),
        }
        print(f"{connection.vendor}, {args.withdrawals} withdrawals in the window; median of {args.polls} polls")
        print(
            f"answers: full {rows['full']} rows, {len(full_body)} B; since the last cursor {rows['since']} rows, "
            f"{len(since_body)} B; quiet {rows['quiet']} rows, {len(quiet_body)} B"
        )
        for (side, kind), (cpu, wall) in figures.items():
            print(f"  {side:<11} {kind:<6} CPU {cpu:8.2f} ms  wall {wall:8.2f} ms  per poll")
        for kind in ("full", "since", "quiet"):
            per_second = (
                HTTP_POLLERS * (figures[("auth", kind)][0] + figures[("poller", kind)][0])
                + AUTH_POLLERS * figures[("auth's own", kind)][0]
            ) / POLL_SECONDS
            print(
                f"local run ({HTTP_POLLERS} HTTP pollers + {AUTH_POLLERS} of auth_svc's, every {POLL_SECONDS:g} s), "
                f"every poll {kind}: {per_second:.1f} ms CPU per second ({per_second / 10:.1f}% of a core)"
            )
    finally:
        connection.close()
        fresh_postgres_database(args.database_url, create=False)


if __name__ == "__main__":
    main()
