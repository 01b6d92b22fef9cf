"""Migration operations for services whose database is PostgreSQL in production and SQLite in the local run."""

from __future__ import annotations

from django.contrib.postgres.indexes import PostgresIndex
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently, TrigramExtension
from django.db import migrations

# An index left by a CREATE INDEX CONCURRENTLY that did not finish: PostgreSQL keeps it, marked invalid.
INVALID_INDEX = """
    SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
    WHERE pg_class.relname = %s AND pg_class.relnamespace = current_schema()::regnamespace AND NOT pg_index.indisvalid
"""


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """Build an index without blocking writes on PostgreSQL; a plain ``AddIndex`` anywhere else.

    PostgreSQL's ``CREATE INDEX CONCURRENTLY`` is what keeps a live table writable during an
    upgrade (common.migration_safety, which accepts this operation as the concurrent one). SQLite,
    the embedded local run's database, has no such statement and no live upgrade to protect.
    The migration must still be ``atomic = False``, as PostgreSQL requires.

    A build that was interrupted (the migration job killed, a deadlock, the build cancelled while
    it waits for an old transaction) leaves an invalid index of the same name behind, and a plain
    retry would fail on it for ever ("relation ... already exists"): the retry drops it first.

    An index of a PostgreSQL access method (``GinIndex``...) is built on PostgreSQL only: SQLite has
    no such index, and the queries it would serve read the table there, as they do without it.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            if isinstance(self.index, PostgresIndex):
                return None
            return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
        self._ensure_not_in_transaction(schema_editor)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(INVALID_INDEX, [self.index.name])
            interrupted = cursor.fetchone() is not None
        if interrupted:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}")
        return super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        if isinstance(self.index, PostgresIndex):
            return None
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyOnPostgres(RemoveIndexConcurrently):
    """Drop an index without blocking writes on PostgreSQL; a plain ``RemoveIndex`` anywhere else.

    A plain ``DROP INDEX`` takes the table's ACCESS EXCLUSIVE lock, and waiting for it behind
    one long transaction queues every write of the table behind it (the outbox: every write of
    the service). ``DROP INDEX CONCURRENTLY`` waits without blocking them; going backwards the
    index is built concurrently. The migration must be ``atomic = False``, as for
    :class:`AddIndexConcurrentlyOnPostgres`.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class TrigramExtensionOnPostgres(TrigramExtension):
    """PostgreSQL's ``pg_trgm`` (trigram indexes); nothing on any other database, migrating either way.

    Django's own operation skips other databases going forwards only: backwards, it asks SQLite for
    ``pg_extension``.
    """

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
