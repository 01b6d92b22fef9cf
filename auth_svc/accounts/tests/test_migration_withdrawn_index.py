"""Migration 0006 (``access_withdrawn_at``'s index, built concurrently) on PostgreSQL, and its retry."""

import pytest
from django.db import NotSupportedError, connection
from django.db.migrations.loader import MigrationLoader

INDEX = "accounts_user_withdrawn_idx"
BEFORE = ("accounts", "0005_user_access_version")
MIGRATION = ("accounts", "0006_user_access_withdrawn_at_index")


def _index_validity() -> list[bool]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_index.indisvalid FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid "
            "WHERE pg_class.relname = %s",
            [INDEX],
        )
        return [valid for (valid,) in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_an_interrupted_concurrent_build_replaces_its_invalid_index():
    # given: the index as an interrupted CREATE INDEX CONCURRENTLY leaves it, present and invalid
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [INDEX])
    assert _index_validity() == [False]
    loader = MigrationLoader(connection)
    operation = loader.get_migration(*MIGRATION).operations[0]

    # when: the migration runs again, outside a transaction as Django runs a non-atomic one
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("accounts", editor, loader.project_state(BEFORE), loader.project_state(MIGRATION))

    # then: one valid index of that name
    assert _index_validity() == [True]


@pytest.mark.django_db(transaction=True)
def test_the_concurrent_build_refuses_to_run_inside_a_transaction():
    # given
    loader = MigrationLoader(connection)
    operation = loader.get_migration(*MIGRATION).operations[0]

    # when/then: CREATE INDEX CONCURRENTLY cannot run in one, so the migration must not be atomic
    assert loader.get_migration(*MIGRATION).atomic is False
    with pytest.raises(NotSupportedError, match="cannot be executed inside a transaction"):
        with connection.schema_editor(atomic=True) as editor:
            operation.database_forwards(
                "accounts", editor, loader.project_state(BEFORE), loader.project_state(MIGRATION)
            )
    assert _index_validity() == [True]
