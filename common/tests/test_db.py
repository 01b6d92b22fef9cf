"""common.db: the violated unique constraint, read from the database's own report."""

from types import SimpleNamespace

import pytest
from django.db import DataError, IntegrityError, transaction

from common.db import rows_update, unique_violation

from .project.models import Gadget


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


@pytest.mark.django_db
def test_rows_update_writes_each_row_its_own_values():
    # given
    first, second = Gadget.objects.create(name="first"), Gadget.objects.create(name="second")
    first.name, second.name = "one", "two"

    # when
    rows_update(Gadget, [first, second], ["name"])

    # then
    assert dict(Gadget.objects.values_list("pk", "name")) == {first.pk: "one", second.pk: "two"}


@pytest.mark.django_db
def test_rows_update_refuses_a_value_too_long_for_its_column_as_save_does(postgresql):
    # given: a name of 51 characters for a varchar(50) (an explicit cast to varchar(50) would cut it)
    gadget = Gadget.objects.create(name="short")
    gadget.name = "x" * 51

    # when / then
    with pytest.raises(DataError), transaction.atomic():
        rows_update(Gadget, [gadget], ["name"])
    assert Gadget.objects.get().name == "short"
