"""Migration operations for services whose database is PostgreSQL in production and SQLite in the local run."""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """Build an index without blocking writes on PostgreSQL; a plain ``AddIndex`` anywhere else.

    PostgreSQL's ``CREATE INDEX CONCURRENTLY`` is what keeps a live table writable during an
    upgrade (common.migration_safety, which accepts this operation as the concurrent one). SQLite,
    the embedded local run's database, has no such statement and no live upgrade to protect.
    The migration must still be ``atomic = False``, as PostgreSQL requires.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
