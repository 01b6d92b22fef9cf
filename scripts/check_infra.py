"""Fail loudly, before any test runs, if PostgreSQL or RabbitMQ is not reachable."""

import sys

import psycopg
from kombu import Connection


def main(pg_url: str, amqp_url: str) -> int:
    problems = []
    try:
        psycopg.connect(f"{pg_url.rstrip('/')}/postgres", connect_timeout=5).close()
    except Exception as exc:
        problems.append(f"PostgreSQL at {pg_url}: {exc}")
    try:
        with Connection(amqp_url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        problems.append(f"RabbitMQ at {amqp_url}: {exc}")
    for problem in problems:
        print(f"!! not reachable: {problem}", file=sys.stderr)
    if problems:
        print("The test suites need the local PostgreSQL and RabbitMQ (see README).", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
