"""Prepared statements that a migration made stale are planned again, not refused for ever.

The services bind their parameters on the server (``server_side_binding``,
``common.settings.env.database_config``), so psycopg prepares a statement once a connection
has run it five times, and PostgreSQL no longer parses and plans it on every run: about a
third of the server's CPU for the services' short statements (docs/performance.md).

A prepared statement fixes its result's column types. A migration that changes the type of a
column one returns (widening a varchar, which docs/upgrading.md allows while the previous
release serves) makes PostgreSQL refuse the statement on that connection, run after run
("cached plan must not change result type"), until the statement is dropped:

- outside a transaction, :func:`replan_stale_statements` drops the connection's prepared
  statements (``DEALLOCATE ALL``, which psycopg notices and forgets its own record of) and runs
  the statement again: PostgreSQL refused it before running it, so it runs once;
- inside a transaction nothing can be run again: the transaction has failed. It fails, once,
  and its rollback drops the connection's prepared statements (psycopg does so on every
  rollback, a savepoint's included), so the connection's next transaction prepares afresh.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError

# SQLSTATE 0A000 (feature_not_supported) carries other refusals too. The server function that
# raised it tells this one in any language (the message is translated under a non-English lc_messages).
_FEATURE_NOT_SUPPORTED = "0A000"
_REVALIDATION = "RevalidateCachedQuery"
_STALE_PLAN = "cached plan must not change result type"


def replan_stale_statements(execute, sql: str, params: Any, many: bool, context: dict[str, Any]):
    """A Django ``execute_wrapper``: run ``sql`` again, once, after dropping stale prepared statements."""
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        psycopg_connection = context["connection"].connection
        if not is_stale_plan(error) or _in_transaction(psycopg_connection):
            raise
        psycopg_connection.execute("DEALLOCATE ALL")
        return execute(sql, params, many, context)


def is_stale_plan(error: BaseException) -> bool:
    """Return whether PostgreSQL refused a prepared statement whose result types a schema change altered."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) != _FEATURE_NOT_SUPPORTED:
        return False
    source = getattr(getattr(cause, "diag", None), "source_function", None)
    return source == _REVALIDATION or str(cause).startswith(_STALE_PLAN)


def _in_transaction(psycopg_connection) -> bool:
    """Whether the refused statement ran in a transaction (an ``atomic`` block or autocommit turned off)."""
    from psycopg.pq import TransactionStatus

    return psycopg_connection.info.transaction_status != TransactionStatus.IDLE


def install(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: every statement of a PostgreSQL connection goes through the wrapper.

    A pooled connection is "created" each time a thread takes it from the pool; the wrapper is
    kept once, first, so that a temporary wrapper pushed and popped around it
    (``connection.execute_wrapper()``) pops its own.
    """
    if connection.vendor == "postgresql" and replan_stale_statements not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, replan_stale_statements)
