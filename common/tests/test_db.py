"""common.db: the violated unique constraint, read from the database's own report."""

from types import SimpleNamespace

import pytest
from django.db import IntegrityError

from common.db import unique_violation


class PsycopgError(Exception):
    """Stands in for psycopg's error: an SQLSTATE and the server's diagnostics."""

    def __init__(self, sqlstate: str, constraint: str):
        super().__init__("duplicate key value violates unique constraint")
        self.sqlstate, self.diag = sqlstate, SimpleNamespace(constraint_name=constraint)


def _postgres_error(sqlstate: str, constraint: str) -> IntegrityError:
    # What Django raises on psycopg: its own IntegrityError, caused by psycopg's.
    error = IntegrityError("duplicate key value violates unique constraint")
    error.__cause__ = PsycopgError(sqlstate, constraint)
    return error


def test_postgresql_names_the_constraint_in_its_diagnostics():
    assert unique_violation(_postgres_error("23505", "contacts_customer_email_uniq")) == "contacts_customer_email_uniq"


def test_postgresql_other_violations_are_not_unique_ones():
    # a check constraint (23514) is not a duplicate, whatever its name
    assert unique_violation(_postgres_error("23514", "accounts_user_role_valid")) is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("UNIQUE constraint failed: index 'contacts_customer_email_uniq'", "contacts_customer_email_uniq"),
        ("UNIQUE constraint failed: accounts_user.email", "accounts_user.email"),
        ("CHECK constraint failed: accounts_user_role_valid", None),
    ],
)
def test_sqlite_names_it_in_the_message(message, expected):
    assert unique_violation(IntegrityError(message)) == expected
