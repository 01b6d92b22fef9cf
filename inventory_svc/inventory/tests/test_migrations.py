"""Migration 0002: a purchase receipt moved before receipts existed names its order as its receipt."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from erp_testkit.migrations import migrate_to, migrate_to_latest

# Also run on SQLite (scripts/test.sh's sqlite lane), as the embedded local run keeps its data.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]

BEFORE, AFTER = [("inventory", "0001_initial")], [("inventory", "0002_movement_receipt")]


def test_earlier_purchase_receipts_are_receipts_named_by_their_order():
    # given: before receipts, an item received for an order, then adjusted
    apps = migrate_to(BEFORE)
    items, movements = apps.get_model("inventory", "Item"), apps.get_model("inventory", "StockMovement")
    item = items.objects.create(id=uuid.uuid4(), sku="OLD", name="Old", unit_price=1)
    order = uuid.uuid4()
    common = {"item": item, "actor": "test", "created_at": timezone.now()}
    movements.objects.create(change=5, quantity_after=5, reason="purchase_receipt", reference=order, **common)
    movements.objects.create(change=-1, quantity_after=4, reason="adjustment", reference=None, **common)

    try:
        # when
        apps = migrate_to(AFTER)

        # then
        movements = apps.get_model("inventory", "StockMovement")
        assert sorted(movements.objects.values_list("reason", "reference", "receipt_id")) == [
            ("adjustment", None, None),
            ("purchase_receipt", order, order),
        ]
    finally:
        migrate_to_latest()


def test_the_release_before_backorders_still_writes_its_rows_once_0003_is_applied():
    # given: the schema with backorders, and the models of the release before it, which keeps running (and
    # writing) on the pods not yet upgraded while a rolling deploy goes on
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from inventory.models import SalesOrderIssue, Stock

    old = MigrationExecutor(connection).loader.project_state(AFTER).apps
    order_id = uuid.uuid4()

    # when: it creates an item with its stock and records an order's decision, naming only the columns it knows
    item = old.get_model("inventory", "Item").objects.create(id=uuid.uuid4(), sku="OLD", name="Old", unit_price=1)
    old.get_model("inventory", "Stock").objects.create(item_id=item.pk, quantity=0)
    old.get_model("inventory", "SalesOrderIssue").objects.create(order_id=order_id, outcome="issued")

    # then: the columns it does not know take their defaults in the database (not a NOT NULL violation)
    assert Stock.objects.values_list("quantity", "backordered").get(item_id=item.pk) == (0, 0)
    assert SalesOrderIssue.objects.values_list("version", "cancelled_at").get(order_id=order_id) == (1, None)


def test_the_list_indexes_migrate_both_ways_the_trigram_ones_on_postgresql_only():
    # given the items before the list's indexes
    migrate_to([("inventory", "0010_stock_below_reorder_index")])
    btree = {"item_unit_price_idx", "item_reorder_level_idx"}
    trigram = {"item_sku_trgm_idx", "item_name_trgm_idx"}

    try:
        # when 0011 is applied
        migrate_to([("inventory", "0011_list_indexes")])

        # then the B-tree indexes are built everywhere, the trigram ones (GIN) on PostgreSQL alone
        expected = btree | (trigram if connection.vendor == "postgresql" else set())
        assert expected <= item_indexes()
        assert connection.vendor == "postgresql" or not trigram & item_indexes()

        # and it migrates back, SQLite's missing pg_extension or not
        migrate_to([("inventory", "0010_stock_below_reorder_index")])
        assert not (btree | trigram) & item_indexes()
    finally:
        migrate_to_latest()


def item_indexes() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, "inventory_item"))
