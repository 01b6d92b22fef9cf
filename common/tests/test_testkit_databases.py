"""erp_testkit.databases: a run drops its own databases, by their exact prefix, and nothing else on the server."""

import uuid

import psycopg
from psycopg import sql

from erp_testkit.databases import database_names, drop_databases
from erp_testkit.processes import database_url


def _server_url() -> str:
    """The test database's server, as ``postgres://user:password@host:port`` (what the test kit's helpers take)."""
    return database_url().rsplit("/", 1)[0]


def test_drop_databases_drops_the_prefix_s_databases_only_and_reads_underscore_as_itself():
    # given: two databases of a run's prefix and one whose name differs from it only where the prefix has a "_"
    tag = uuid.uuid4().hex[:8]
    prefix = f"erpkit_{tag}_"
    ours, lookalike = [f"{prefix}sales", f"{prefix}inventory"], f"erpkitX{tag}_sales"
    server = _server_url()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        for name in [*ours, lookalike]:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        assert database_names(server, prefix) == set(ours)

        # when
        drop_databases(server, prefix)

        # then
        assert database_names(server, prefix) == set()
        assert database_names(server, f"erpkitX{tag}") == {lookalike}
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            for name in [*ours, lookalike]:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
