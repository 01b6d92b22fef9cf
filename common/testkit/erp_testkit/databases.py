"""The PostgreSQL databases of one test or bench run, found and dropped by their name's prefix.

A run names every database it makes ``<prefix><service>``, the prefix unique to the run; what it
drops is those, never another run's (the server is shared). ``starts_with``, not ``LIKE``: a
prefix's ``_`` would match any character there.
"""

from __future__ import annotations


def database_names(server_url: str, prefix: str) -> set[str]:
    """Return the databases on ``server_url`` (``postgres://host:port``) whose name starts with ``prefix``."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres") as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix]).fetchall()
    return {name for (name,) in rows}


def drop_databases(server_url: str, prefix: str) -> None:
    """Drop the databases of :func:`database_names`, closing the sessions still connected to them."""
    import psycopg
    from psycopg import sql

    names = database_names(server_url, prefix)
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        for name in sorted(names):
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
