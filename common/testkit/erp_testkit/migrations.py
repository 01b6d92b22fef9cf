"""Data-migration tests: move the test database to a migration, and back to the newest.

``apps = migrate_to([("purchasing", "0004_status_history")])`` returns the historical
models at that state, to write the rows as they were; ``migrate_to(...)`` the next one runs
the data migration; :func:`migrate_to_latest` (in a ``finally``) leaves the schema as the
rest of the suite expects it. Use in ``django_db(transaction=True)`` tests.
"""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate to ``targets`` and return the apps (historical models) of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
