"""Check migrations against the expand/contract rules that keep a live database serving during an upgrade.

While a release's migrations run, the previous release still serves (a rolling upgrade; see
docs/upgrading.md), so a migration may only *expand* the tables that release uses, cheaply:

- a column it adds is nullable or has a database default (``db_default``: PostgreSQL adds either
  without a rewrite, and the previous release's INSERTs, which do not name it, still work);
- a column it alters keeps its type (a varchar may grow, or become text): any other change
  rewrites the table under an ACCESS EXCLUSIVE lock, and so does setting NOT NULL (a scan);
- an index on an existing table is ``AddIndexConcurrently`` in a non-atomic migration, never an
  ``AddIndex``, an indexed ``AddField``/``AlterField`` or a unique constraint (each builds its
  index while writes wait); a check constraint is validated under the same lock;
- nothing the previous release reads is removed or renamed (that *contract* step comes a release
  after the code stopped using it);
- ``RunPython`` has a reverse (``RunPython.noop`` when there is nothing to undo), so a rollback
  can migrate back; ``RunSQL`` cannot be read, so it always needs a reasoned exception;
- a backfill (``RunPython``) never runs in the transaction of a schema change to a table in use:
  every ALTER TABLE takes that table's ACCESS EXCLUSIVE lock and an atomic migration holds it
  until it commits, so the previous release's reads and writes of the table would wait for the
  whole backfill. It goes in a migration of its own (``atomic = False``, in batches).

Operations on a table created since the previous release are free: no running code uses it yet.
What breaks a rule is allowed only by a reasoned entry in the exceptions file
(deploy/migration_exceptions.toml), by operation. ``manage.py check_migration_safety`` applies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.contrib.postgres.operations import AddIndexConcurrently, CreateExtension, RemoveIndexConcurrently
from django.core.exceptions import FieldDoesNotExist
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.db.utils import ConnectionHandler

# The rules are PostgreSQL's (production's database), whatever this process is connected to.
_POSTGRES = ConnectionHandler({"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "rules"}})["default"]

# Operations that never lock a table for longer than a catalogue change.
CHEAP = (
    migrations.CreateModel,
    migrations.AlterModelOptions,
    migrations.AlterModelManagers,
    migrations.RemoveIndex,
    migrations.RemoveConstraint,
    migrations.RenameIndex,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    CreateExtension,  # CREATE EXTENSION IF NOT EXISTS: catalogue rows, no table of the service's touched
)
# Operations that take away what the previous release reads.
CONTRACTING = (
    migrations.RemoveField,
    migrations.DeleteModel,
    migrations.RenameField,
    migrations.RenameModel,
    migrations.AlterModelTable,
)
CONCURRENTLY = "create it concurrently: AddIndexConcurrently in a migration with atomic = False"


def previous_release(repo_root: Path) -> str:
    """Return the commit deploy/PREVIOUS_RELEASE names (its first line that is not a comment), or ''."""
    lines = [line.strip() for line in (repo_root / "deploy" / "PREVIOUS_RELEASE").read_text().splitlines()]
    return next((line for line in lines if line and not line.startswith("#")), "")


@dataclass(frozen=True)
class Finding:
    """One operation that breaks a rule: ``key`` (``app.migration#index``) is what an exception names."""

    app_label: str
    migration: str
    index: int
    operation: str
    rule: str

    @property
    def key(self) -> str:
        return f"{self.app_label}.{self.migration}#{self.index}"

    def __str__(self) -> str:
        return f"{self.key} {self.operation}: {self.rule}"


def _model_key(app_label: str, operation) -> tuple[str, str]:
    return (app_label, operation.model_name_lower if hasattr(operation, "model_name_lower") else operation.name_lower)


def _names_a_model(operation) -> bool:
    return hasattr(operation, "model_name_lower") or hasattr(operation, "name_lower")


def _varchar_length(db_type: str | None) -> int | None:
    match = re.fullmatch(r"varchar\((\d+)\)", db_type or "")
    return int(match.group(1)) if match else None


def _type_change_is_cheap(old: str | None, new: str | None) -> bool:
    if old == new:
        return True
    old_length, new_length = _varchar_length(old), _varchar_length(new)
    return old_length is not None and (new == "text" or (new_length is not None and new_length >= old_length))


def _has_db_default(app_label: str, operation: migrations.AddField) -> bool:
    """Whether the added column has a database default, in the operation or by the end of this release."""
    if operation.field.has_db_default():
        return True
    try:  # a later migration of the same release may add it (AlterField with db_default)
        field = apps.get_model(app_label, operation.model_name)._meta.get_field(operation.name)
    except (LookupError, FieldDoesNotExist):
        return False
    return field.has_db_default()


def _builds_index(field) -> bool:
    return bool(field.unique or field.db_index) and not field.primary_key


def field_change_findings(old, new) -> list[str]:
    """What altering ``old`` into ``new`` on a populated table does under a lock."""
    found = []
    if not _type_change_is_cheap(old.db_type(_POSTGRES), new.db_type(_POSTGRES)):
        found.append(
            f"changes the column from {old.db_type(_POSTGRES)} to {new.db_type(_POSTGRES)}: PostgreSQL rewrites "
            "the table under a lock (add a new column, backfill, switch, then drop the old one)"
        )
    if old.null and not new.null:
        found.append("sets NOT NULL: PostgreSQL scans the whole table under a lock (constrain in a later release)")
    if _builds_index(new) and not _builds_index(old):
        found.append(f"builds an index under a lock: {CONCURRENTLY}")
    return found


def operation_findings(operation, *, app_label: str, state: ProjectState, existing: set, atomic: bool) -> list[str]:
    """The rules ``operation`` breaks, applied to ``state`` (the project before it).

    ``existing`` holds the (app_label, model) tables of the previous release: only those can be
    large and in use while the migration runs.
    """
    if isinstance(operation, migrations.RunPython):
        return [] if operation.reversible else ["RunPython without reverse_code: a rollback cannot migrate back"]
    if isinstance(operation, migrations.RunSQL):
        return ["RunSQL: its locks and rewrites cannot be checked; give the exception and its reason"]
    if isinstance(operation, migrations.SeparateDatabaseAndState):
        return [
            finding
            for inner in operation.database_operations
            for finding in operation_findings(inner, app_label=app_label, state=state, existing=existing, atomic=atomic)
        ]
    if isinstance(operation, AddIndexConcurrently):
        return ["AddIndexConcurrently in an atomic migration"] if atomic else []
    if isinstance(operation, CHEAP):
        return []
    table = _model_key(app_label, operation)
    if table not in existing:
        return []  # a table made since the previous release: nothing uses it yet
    if isinstance(operation, CONTRACTING):
        return ["removes or renames what the previous release reads: contract a release after the code stops using it"]
    if isinstance(operation, migrations.AddField):
        field = operation.field
        found = []
        if not (field.null or field.many_to_many or _has_db_default(app_label, operation)):
            # A Python ``default`` is not enough: Django fills existing rows with it and then drops
            # the column's default, so the previous release's INSERTs (which do not name the
            # column) fail with a NOT NULL violation until it is gone. ``db_default`` stays.
            found.append(
                "adds a NOT NULL column without a database default (db_default): the previous release's "
                "INSERTs do not name it and fail"
            )
        if _builds_index(field):
            found.append(f"builds an index under a lock: add the field without one, then {CONCURRENTLY}")
        return found
    if isinstance(operation, migrations.AlterField):
        old = state.models[table].get_field(operation.name)
        return field_change_findings(old, operation.field)
    if isinstance(operation, migrations.AddIndex):
        return [f"AddIndex on a table in use: {CONCURRENTLY}"]
    if isinstance(operation, migrations.AddConstraint):
        if isinstance(operation.constraint, models.UniqueConstraint):
            return [f"a unique constraint builds its index under a lock: {CONCURRENTLY}, then constrain"]
        return ["a check constraint is validated against every row under a lock"]
    if isinstance(operation, (migrations.AlterUniqueTogether, migrations.AlterIndexTogether)):
        return [f"builds an index under a lock: {CONCURRENTLY}"]
    return [f"no rule for {type(operation).__name__} yet: add one to common.migration_safety"]


# Operations that leave a table in use unlocked: they make a new table, or lock nothing of their own.
NO_TABLE_LOCK = (migrations.CreateModel, migrations.RunPython, migrations.RunSQL, AddIndexConcurrently)


def held_lock_findings(operations, *, app_label: str, existing: set, atomic: bool) -> dict[int, str]:
    """The backfills of an atomic migration that run under a lock its earlier operations took: index -> rule.

    A ``RunPython`` after an operation that altered a table of the previous release runs while
    that table's ACCESS EXCLUSIVE lock is held (until the migration commits).
    """
    if not atomic:
        return {}
    found, locked = {}, []
    for index, operation in enumerate(operations):
        if isinstance(operation, migrations.RunPython) and locked:
            tables = ", ".join(sorted({f"{label}.{model}" for label, model in locked}))
            found[index] = (
                f"backfills in the transaction that holds the lock of {tables} (taken by an earlier operation of "
                "this migration): the previous release waits for the whole backfill; move it to a migration of "
                "its own (atomic = False, in batches)"
            )
        elif not isinstance(operation, NO_TABLE_LOCK) and _names_a_model(operation):
            table = _model_key(app_label, operation)
            if table in existing:
                locked.append(table)
    return found


def migration_findings(
    loader: MigrationLoader, *, is_new: Callable[[str, str], bool], app_labels: Iterable[str] | None = None
) -> list[Finding]:
    """Every rule broken by the migrations ``is_new(app_label, name)`` picks, in the order they apply.

    The tables in use are those of the project state after every migration that is not new
    (the previous release's; a migration never depends on a newer one).
    """
    wanted = set(app_labels) if app_labels is not None else None
    ordered = list(dict.fromkeys(key for leaf in loader.graph.leaf_nodes() for key in loader.graph.forwards_plan(leaf)))
    old_nodes = [key for key in ordered if not is_new(*key)]
    before = loader.project_state(nodes=old_nodes, at_end=True) if old_nodes else ProjectState()
    existing = set(before.models)
    found = []
    for app_label, name in ordered:
        if not is_new(app_label, name) or (wanted is not None and app_label not in wanted):
            continue
        migration = loader.graph.nodes[(app_label, name)]
        state = loader.project_state((app_label, name), at_end=False)
        held = held_lock_findings(migration.operations, app_label=app_label, existing=existing, atomic=migration.atomic)
        for index, operation in enumerate(migration.operations):
            rules = operation_findings(
                operation, app_label=app_label, state=state, existing=existing, atomic=migration.atomic
            )
            rules += [held[index]] if index in held else []
            found += [Finding(app_label, name, index, operation.describe(), rule) for rule in rules]
            state = state.clone()
            operation.state_forwards(app_label, state)
    return found
