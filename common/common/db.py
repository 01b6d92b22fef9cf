"""Reading the database's own report of a violated constraint (one home for every service).

A service leaves uniqueness to the database (a check before the insert would still race)
and turns the IntegrityError of one named constraint into a 409, re-raising any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model

from .exceptions import Conflict

# SQLite names an expression index ("index 'contacts_customer_email_uniq'") or the
# columns of a column constraint ("accounts_user.email").
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:index '(?P<index>[^']+)'|(?P<columns>.+))")
_PG_UNIQUE_VIOLATION = "23505"
# "(50)" of varchar(50), "(14, 2)" of numeric(14, 2).
_TYPE_MODIFIER = re.compile(r"\([^)]*\)")


def unique_violation(exc: IntegrityError) -> str | None:
    """Return the unique constraint ``exc`` violated, as the database names it; None if not a unique violation.

    PostgreSQL: the constraint's name from the server's report (psycopg's
    ``diag.constraint_name``; a column's ``unique=True`` is ``<table>_<column>_key``).
    SQLite: the index name from the message, or ``<table>.<column>`` for a column constraint.
    """
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:
        return diag.constraint_name if getattr(cause, "sqlstate", None) == _PG_UNIQUE_VIOLATION else None
    match = _SQLITE_UNIQUE.search(str(exc))
    if match is None:
        return None
    return match["index"] or match["columns"]


@contextmanager
def unique_conflict(*constraints: str, field: str, message: str) -> Iterator[None]:
    """Run the block in a savepoint; a violation of one of ``constraints`` becomes a 409 naming ``field``.

    The savepoint leaves the caller's transaction usable after the violation. Any other
    IntegrityError (a check constraint, a foreign key) is re-raised: it is a bug, not a conflict.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        if unique_violation(exc) not in constraints:
            raise
        raise Conflict(message, details=[{"field": field, "message": message}]) from exc


def rows_update(model: type[Model], objs: Sequence[Model], fields: Sequence[str], *, batch_size: int = 1000) -> None:
    """Write ``fields`` of each of ``objs`` (found by primary key), one UPDATE ... FROM (VALUES ...) per batch.

    What ``QuerySet.bulk_update`` does, at a cost that stays linear: Django builds one
    ``CASE WHEN pk = ... THEN ...`` per row and field, in Python (about 1 ms per row of three
    fields, most of it resolving the expressions) and the database then tries the branches
    one by one for every row. Here each batch is one join with a list of values. Values go
    through each field's ``get_db_prep_save``, as Django's own writes do; ``auto_now`` is not
    applied (set such a field on the objects and name it). PostgreSQL and SQLite (3.33+).
    """
    if not objs or not fields:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = model._meta.pk
    columns = [pk, *(model._meta.get_field(name) for name in fields)]
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":
        # The VALUES list names its columns, each cast to the column's type (a parameter alone
        # would be text or a guessed integer type, and the UPDATE would refuse the mismatch),
        # without its modifier: an explicit cast to varchar(50) silently cuts a longer value,
        # where the assignment refuses it, as an INSERT or save() does.
        names = ", ".join(quote(field.column) for field in columns)
        alias = f"v ({names})"
        placeholder = (
            "(" + ", ".join(f"%s::{_TYPE_MODIFIER.sub('', field.db_type(connection))}" for field in columns) + ")"
        )
        value = {field: f"v.{quote(field.column)}" for field in columns}
    else:  # SQLite names the columns of a VALUES list column1, column2, ...
        alias = "v"
        placeholder = "(" + ", ".join("%s" for _ in columns) + ")"
        value = {field: f"v.column{position}" for position, field in enumerate(columns, start=1)}
    assignments = ", ".join(f"{quote(field.column)} = {value[field]}" for field in columns[1:])
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in batch for field in columns
            ]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([placeholder] * len(batch))}) AS {alias} "  # noqa: S608 (names from the model)
                f"WHERE {table}.{quote(pk.column)} = {value[pk]}",
                params,
            )


def changes_assign(instance: Model, changes: Mapping[str, Any]) -> bool:
    """Set ``changes`` on ``instance``; False, and nothing set, if every value is the one it has.

    What an update that changes nothing must notice before it writes (services: no write, no event).
    """
    if all(getattr(instance, field) == value for field, value in changes.items()):
        return False
    for field, value in changes.items():
        setattr(instance, field, value)
    return True
