"""CPU per statement with the parameters bound by the client, by the server, and prepared (common.prepared_statements).

The services' statements are short: a row by its key, an UPDATE of it, an INSERT returning its id,
each in a transaction as Django writes them. This bench runs that mix on a scratch database of
ERP_POSTGRES_URL (``<prefix>bench_prepared``, dropped afterwards) in the three ways psycopg can,
alternated round by round, and prints the CPU of this process (psycopg and the Python around it)
and of the PostgreSQL backend serving it (/proc), per transaction of three statements:

- ``client``: parameters merged into the SQL text by psycopg (Django's default, the services before);
- ``server``: parameters bound by the server (``server_side_binding``), nothing prepared;
- ``prepared``: bound by the server and prepared from a statement's sixth run (the services now).

Usage: .venv/bin/python bench/prepared_statements.py [--transactions 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import psycopg
from psycopg import sql

SELECT = (
    'SELECT "probe"."id", "probe"."status", "probe"."customer_id", "probe"."total", "probe"."created_at" '
    'FROM "probe" WHERE "probe"."id" = %s LIMIT 21'
)
UPDATE = 'UPDATE "probe" SET "status" = %s, "created_at" = %s WHERE "probe"."id" = %s'
INSERT = 'INSERT INTO "probe_history" ("probe_id", "status", "created_at") VALUES (%s, %s, %s) RETURNING "id"'
MODES = {
    "client": {"cursor_factory": psycopg.ClientCursor, "prepare_threshold": None},
    "server": {"prepare_threshold": None},
    "prepared": {"prepare_threshold": 5},
}


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, mode: str, ids: list[uuid.UUID], transactions: int) -> tuple[float, float]:
    """Return (client, server) CPU microseconds per transaction in ``mode``."""
    with psycopg.connect(url, **MODES[mode]) as conn:
        backend = conn.info.backend_pid
        for _warm_up in range(2):
            _transactions(conn, ids, 20)
        server_before, client_before = cpu_seconds(backend), time.process_time()
        _transactions(conn, ids, transactions)
        server, client = cpu_seconds(backend) - server_before, time.process_time() - client_before
    return client / transactions * 1e6, server / transactions * 1e6


def _transactions(conn: psycopg.Connection, ids: list[uuid.UUID], count: int) -> None:
    now = datetime.now(UTC)
    for n in range(count):
        key = ids[n % len(ids)]
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute(SELECT, (key,))
            cursor.fetchall()
            cursor.execute(UPDATE, ("Confirmed", now, key))
            cursor.execute(INSERT, (key, "Confirmed", now))
            cursor.fetchone()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server_url = os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    name = f"{os.environ.get('ERP_DB_PREFIX', '')}bench_prepared"
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{server_url}/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as setup:
            setup.execute(
                "CREATE TABLE probe (id uuid PRIMARY KEY, status varchar(20) NOT NULL, customer_id uuid NOT NULL,"
                " total numeric(14, 2) NOT NULL, created_at timestamptz NOT NULL)"
            )
            setup.execute(
                "CREATE TABLE probe_history (id bigserial PRIMARY KEY, probe_id uuid NOT NULL REFERENCES probe,"
                " status varchar(20) NOT NULL, created_at timestamptz NOT NULL)"
            )
            setup.execute(
                "INSERT INTO probe SELECT gen_random_uuid(), 'Draft', gen_random_uuid(), 10, now()"
                " FROM generate_series(1, 10000)"
            )
            setup.execute("ANALYZE probe")
            ids = [row[0] for row in setup.execute("SELECT id FROM probe LIMIT 500")]
        figures: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
        for _round in range(args.rounds):
            for mode in MODES:
                figures[mode].append(run(url, mode, ids, args.transactions))
        print(f"CPU per transaction (SELECT by key, UPDATE, INSERT RETURNING), {args.transactions} x {args.rounds}:")
        print(f"  {'':10} {'this process':>14} {'PostgreSQL':>12} {'both':>8}   (each round's both)")
        for mode, runs in figures.items():
            client = statistics.median(c for c, _ in runs)
            server = statistics.median(s for _, s in runs)
            each = " / ".join(f"{c + s:.0f}" for c, s in runs)
            print(f"  {mode:10} {client:11.0f} us {server:9.0f} us {client + server:5.0f} us   ({each})")
    finally:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
