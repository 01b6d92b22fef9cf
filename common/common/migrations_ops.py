"""Migration operations every service may use (imported by name from its migrations).

:class:`AddIndexConcurrently` is Django's PostgreSQL operation (``CREATE INDEX CONCURRENTLY``: the
previous release keeps writing the table while the index builds, common.migration_safety), made
usable where a service runs on SQLite too (the local run's default): there an index is built the
ordinary way, which on a file nobody else writes is just as safe.
"""

from __future__ import annotations

from django.contrib.postgres import operations as postgres_operations


class AddIndexConcurrently(postgres_operations.AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index)
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index)
        return None
