"""Orders waiting for inventory's answer too long: the selector, the admin's filter and /metrics (issue 27)."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from sales.models import SalesOrder
from sales.selectors import sales_order_list_stuck_pending

pytestmark = pytest.mark.django_db

URL = "/admin/sales/salesorder/"


@pytest.fixture
def three_confirmed(services, draft, admin_client):
    """Three confirmed orders: pending for an hour, pending for a minute, answered (issued) an hour ago."""
    orders = [draft([(services.add_item(stock=5), 1)]) for _ in range(3)]
    ids = [order["id"] for order in orders]
    admin_client.post(URL, {"action": "confirm", "_selected_action": ids})
    now = timezone.now()
    stuck, recent, answered = ids
    SalesOrder.objects.filter(pk=stuck).update(confirmed_at=now - dt.timedelta(hours=1))
    SalesOrder.objects.filter(pk=recent).update(confirmed_at=now - dt.timedelta(minutes=1))
    SalesOrder.objects.filter(pk=answered).update(confirmed_at=now - dt.timedelta(hours=1), stock_status="issued")
    assert SalesOrder.objects.filter(stock_status="pending").count() == 2
    return stuck, recent, answered


def test_the_selector_returns_the_orders_pending_past_the_threshold_oldest_first(three_confirmed, settings):
    stuck, recent, _ = three_confirmed
    settings.ERP = {**settings.ERP, "PENDING_STUCK_AFTER": 300.0}
    # when / then: past 5 minutes (the setting), and past 30 s
    assert [str(order.pk) for order in sales_order_list_stuck_pending()] == [stuck]
    assert [str(order.pk) for order in sales_order_list_stuck_pending(older_than=dt.timedelta(seconds=30))] == [
        stuck,
        recent,
    ]


def test_the_admin_filters_the_stuck_orders(three_confirmed, admin_client):
    stuck, _, _ = three_confirmed
    # when
    listing = admin_client.get(URL, {"stuck": "pending"})
    # then
    assert listing.status_code == 200
    assert [str(row.pk) for row in listing.context["cl"].result_list] == [stuck]
    assert b"waiting for inventory" in admin_client.get(URL).content


def test_metrics_count_the_stuck_orders_and_the_age_of_the_oldest(three_confirmed):
    # when
    body = Client().get("/metrics").content.decode()
    # then
    assert "erp_sales_orders_stuck_pending 1.0" in body
    age = float(re.search(r"^erp_sales_orders_stuck_pending_oldest_age_seconds (\S+)$", body, re.M).group(1))
    assert 3600 <= age < 3660
