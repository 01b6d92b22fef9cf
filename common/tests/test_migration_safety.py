"""The expand/contract rules, one operation at a time, on a table the previous release has and on a new one."""

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.state import ModelState, ProjectState

from common.migration_safety import held_lock_findings, operation_findings

IN_USE = {("shop", "order")}


def shop_state() -> ProjectState:
    state = ProjectState()
    for name in ("order", "receipt"):  # order: the previous release's table; receipt: made since
        fields = [
            ("id", models.BigAutoField(primary_key=True)),
            ("status", models.CharField(max_length=20)),
            ("note", models.TextField(null=True)),
            ("quantity", models.IntegerField(default=0)),
        ]
        state.add_model(ModelState("shop", name, fields))
    return state


def findings(operation, *, atomic: bool = True) -> list[str]:
    return operation_findings(operation, app_label="shop", state=shop_state(), existing=IN_USE, atomic=atomic)


@pytest.mark.parametrize(
    "operation",
    [
        migrations.AddField("order", "paid", models.BooleanField(default=False, db_default=False)),
        migrations.AddField("order", "comment", models.TextField(null=True)),
        migrations.AlterField("order", "status", models.CharField(max_length=32, choices=[("a", "A")])),
        migrations.AlterField("order", "status", models.TextField()),
        migrations.RunPython(print, migrations.RunPython.noop),
        migrations.RemoveConstraint("order", "old"),
        migrations.CreateModel("invoice", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddField("receipt", "total", models.IntegerField()),
        migrations.AddIndex("receipt", models.Index(fields=["status"], name="receipt_status")),
        migrations.AddConstraint("receipt", models.CheckConstraint(condition=models.Q(quantity__gte=0), name="q")),
        migrations.RemoveField("receipt", "note"),
    ],
    ids=lambda op: op.describe(),
)
def test_expanding_cheaply_or_touching_a_new_table_breaks_no_rule(operation):
    # given an operation that adds with a default or nullable, widens, or changes a table made since
    # when it is checked / then nothing is found
    assert findings(operation) == []


def test_an_index_built_concurrently_is_safe_only_outside_a_transaction():
    # given AddIndexConcurrently on the table in use
    operation = AddIndexConcurrently("order", models.Index(fields=["status"], name="order_status"))
    # when it is checked in a non-atomic and in an atomic migration / then only the atomic one is refused
    assert findings(operation, atomic=False) == []
    assert findings(operation, atomic=True) == ["AddIndexConcurrently in an atomic migration"]


@pytest.mark.parametrize(
    ("operation", "rule"),
    [
        (migrations.AddField("order", "total", models.IntegerField()), "NOT NULL column without a database default"),
        # Django drops a Python default once the rows are filled: the previous release's INSERTs then fail
        (migrations.AddField("order", "paid", models.BooleanField(default=False)), "without a database default"),
        (migrations.AddField("order", "ref", models.CharField(max_length=9, db_default="", db_index=True)), "index"),
        (migrations.AlterField("order", "status", models.CharField(max_length=10)), "rewrites the table"),
        (migrations.AlterField("order", "quantity", models.BigIntegerField(default=0)), "rewrites the table"),
        (migrations.AlterField("order", "note", models.TextField()), "sets NOT NULL"),
        (migrations.AlterField("order", "status", models.CharField(max_length=20, unique=True)), "index"),
        (migrations.AddIndex("order", models.Index(fields=["status"], name="order_status")), "AddIndexConcurrently"),
        (migrations.AddConstraint("order", models.UniqueConstraint(fields=["status"], name="u")), "unique constraint"),
        (
            migrations.AddConstraint("order", models.CheckConstraint(condition=models.Q(quantity__gte=0), name="c")),
            "check",
        ),
        (migrations.RemoveField("order", "note"), "previous release reads"),
        (migrations.RenameField("order", "note", "remark"), "previous release reads"),
        (migrations.DeleteModel("order"), "previous release reads"),
        (migrations.RunPython(print), "without reverse_code"),
        (migrations.RunSQL("UPDATE shop_order SET quantity = 1", migrations.RunSQL.noop), "RunSQL"),
    ],
    ids=lambda value: value.describe() if hasattr(value, "describe") else value,
)
def test_what_locks_rewrites_or_contracts_a_table_in_use_is_refused(operation, rule):
    # given an operation on the previous release's table that locks, rewrites or removes
    # when it is checked
    found = findings(operation)
    # then exactly one rule names what it does
    assert len(found) == 1 and rule in found[0], found


BACKFILL = migrations.RunPython(print, migrations.RunPython.noop)
ADD_PAID = migrations.AddField("order", "paid", models.BooleanField(default=False, db_default=False))


def test_a_backfill_after_a_schema_change_to_a_table_in_use_in_one_transaction_is_refused():
    # given an atomic migration that adds a column to the previous release's table (its lock is
    # held until commit), then backfills
    operations = [migrations.CreateModel("invoice", [("id", models.BigAutoField(primary_key=True))]), ADD_PAID]
    # when it is checked
    found = held_lock_findings([*operations, BACKFILL], app_label="shop", existing=IN_USE, atomic=True)
    # then the backfill (and only it) is refused, naming the locked table
    assert list(found) == [2] and "holds the lock of shop.order" in found[2], found


@pytest.mark.parametrize(
    ("operations", "atomic"),
    [
        ([ADD_PAID, BACKFILL], False),  # non-atomic: each operation commits on its own
        ([BACKFILL, ADD_PAID], True),  # the backfill runs before any lock is taken
        ([migrations.AddField("receipt", "total", models.IntegerField(null=True)), BACKFILL], True),  # a new table
    ],
    ids=["non-atomic", "backfill first", "new table"],
)
def test_a_backfill_outside_a_held_lock_of_a_table_in_use_is_allowed(operations, atomic):
    # given a backfill that no lock of a table in use waits on
    # when it is checked / then nothing is found
    assert held_lock_findings(operations, app_label="shop", existing=IN_USE, atomic=atomic) == {}
