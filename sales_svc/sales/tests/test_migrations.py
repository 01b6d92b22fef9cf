"""Migrations 0005-0006: the release before backorders keeps writing orders while a rolling deploy goes on."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sales.models import SalesOrder, SalesOrderLine

pytestmark = pytest.mark.django_db

BEFORE_BACKORDERS = [("sales", "0004_status_history")]


def test_the_release_before_backorders_still_creates_orders_once_0005_is_applied():
    # given: the schema with backorders, and the models of the release before it, still running on the pods
    # not yet upgraded
    old = MigrationExecutor(connection).loader.project_state(BEFORE_BACKORDERS).apps
    orders, lines = old.get_model("sales", "SalesOrder"), old.get_model("sales", "SalesOrderLine")

    # when: it creates a draft and its line, naming only the columns it knows
    order = orders.objects.create(id=uuid.uuid4(), customer_id=uuid.uuid4(), customer_name="Old", total_amount=5)
    lines.objects.create(
        order=order, position=0, item_id=uuid.uuid4(), sku="OLD", name="Old", quantity=5, unit_price=1, subtotal=5
    )

    # then: the columns it does not know take their defaults in the database (not a NOT NULL violation)
    assert SalesOrder.objects.values_list("allow_backorder", "stock_version").get(pk=order.pk) == (False, 0)
    assert SalesOrderLine.objects.values_list("quantity_issued", "quantity_backordered").get(order_id=order.pk) == (
        0,
        0,
    )
