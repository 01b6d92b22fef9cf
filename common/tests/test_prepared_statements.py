"""Prepared statements on PostgreSQL, and a migration that changes a column they return (common.prepared_statements)."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest
from django.db import NotSupportedError, connection, connections, transaction

from common.prepared_statements import install, is_stale_plan, replan_stale_statements

pytestmark = pytest.mark.django_db(transaction=True)

SELECT = "SELECT id, name FROM prepared_probe WHERE id = %s"
# What docs/upgrading.md allows a release to do while the previous one serves.
WIDEN = "ALTER TABLE prepared_probe ALTER COLUMN name TYPE varchar(50)"


@pytest.fixture
def probe():
    """A table, a statement on it prepared on this connection, and a second connection (a migration's)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (id integer PRIMARY KEY, name varchar(20))")
        cursor.execute("INSERT INTO prepared_probe VALUES (1, 'one')")
    for _ in range(6):
        assert _select() == [(1, "one")]
    settings = connection.settings_dict
    migration = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )
    yield migration
    migration.execute("DROP TABLE IF EXISTS prepared_probe")
    migration.close()


def _select():
    with connection.cursor() as cursor:
        cursor.execute(SELECT, [1])
        return cursor.fetchall()


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_services_bind_on_the_server_so_a_repeated_statement_is_prepared(probe):
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    assert "SELECT id, name FROM prepared_probe WHERE id = $1" in _prepared()


def test_a_statement_a_migration_made_stale_runs_again_outside_a_transaction(probe):
    # when: a migration widens a column the prepared statement returns
    probe.execute(WIDEN)

    # then: it is planned again and answers, with no error (PostgreSQL refused it before running it)
    assert _select() == [(1, "one")]
    assert _select() == [(1, "one")]


def test_in_a_transaction_it_fails_once_and_the_rollback_heals_the_connection(probe):
    probe.execute(WIDEN)

    # when: the statement runs in a transaction, which cannot run it again
    with pytest.raises(NotSupportedError, match="cached plan must not change result type"):
        with transaction.atomic():
            _select()

    # then: the rollback dropped the connection's prepared statements: the next transaction answers
    with transaction.atomic():
        assert _select() == [(1, "one")]


def test_with_autocommit_off_it_fails_once_too_and_the_rollback_heals_the_connection(probe):
    probe.execute(WIDEN)
    transaction.set_autocommit(False)
    try:
        # when: no atomic block, but a transaction all the same: nothing is run again in it
        with pytest.raises(NotSupportedError, match="cached plan must not change result type"):
            _select()
        transaction.rollback()
        # then
        assert _select() == [(1, "one")]
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)


def test_without_the_wrapper_the_connection_would_refuse_it_for_ever(probe, monkeypatch):
    # the failure the wrapper exists for, on this psycopg and PostgreSQL
    monkeypatch.setattr(connections["default"], "execute_wrappers", [])
    probe.execute(WIDEN)

    for _ in range(2):
        with pytest.raises(NotSupportedError, match="cached plan must not change result type"):
            _select()


def test_other_refusals_are_not_retried(probe):
    calls = []

    def count(execute, sql, params, many, context):
        calls.append(sql)
        return execute(sql, params, many, context)

    # when: PostgreSQL refuses something else with the same SQLSTATE (0A000, feature_not_supported)
    with connection.execute_wrapper(count):
        with pytest.raises(NotSupportedError):
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM prepared_probe GROUP BY id FOR UPDATE")

    # then: run once
    assert len(calls) == 1


def _refusal(message: str, source_function: str) -> NotSupportedError:
    """What Django raises on psycopg's refusal: its own error, caused by psycopg's (SQLSTATE, diagnostics)."""
    diagnostics = SimpleNamespace(source_function=source_function)
    psycopg_error = type("FeatureNotSupported", (Exception,), {"sqlstate": "0A000", "diag": diagnostics})(message)
    error = NotSupportedError(message)
    error.__cause__ = psycopg_error
    return error


def test_the_refusal_is_recognised_in_any_language_by_the_server_function_that_raised_it():
    # lc_messages=fr: the message is translated, the function is not
    french = _refusal("le plan en cache ne doit pas modifier le type en résultat", "RevalidateCachedQuery")
    other = _refusal("FOR UPDATE n'est pas autorisé avec la clause GROUP BY", "CheckSelectLocking")

    assert (is_stale_plan(french), is_stale_plan(other)) == (True, False)


def test_the_wrapper_is_installed_once_and_on_postgresql_only():
    postgres = SimpleNamespace(vendor="postgresql", execute_wrappers=["a test's wrapper"])
    sqlite = SimpleNamespace(vendor="sqlite", execute_wrappers=[])

    # when: a pooled connection is taken twice, and an SQLite one
    for taken in (postgres, postgres, sqlite):
        install(sender=None, connection=taken)

    # then: first, so that a wrapper pushed around it pops its own
    assert postgres.execute_wrappers == [replan_stale_statements, "a test's wrapper"]
    assert sqlite.execute_wrappers == []
