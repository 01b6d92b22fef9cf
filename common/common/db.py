"""Reading the database's own report of a violated constraint (one home for every service).

A service leaves uniqueness to the database (a check before the insert would still race)
and turns the IntegrityError of one named constraint into a 409, re-raising any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction

from .exceptions import Conflict

# SQLite names an expression index ("index 'contacts_customer_email_uniq'") or the
# columns of a column constraint ("accounts_user.email").
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:index '(?P<index>[^']+)'|(?P<columns>.+))")
_PG_UNIQUE_VIOLATION = "23505"


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
