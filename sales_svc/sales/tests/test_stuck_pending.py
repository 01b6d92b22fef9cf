"""Orders waiting for inventory's answer too long: the selector, the admin's filter, /metrics and the watchdog job."""

import datetime as dt
import logging
import re

import pytest
from celery.schedules import crontab
from django.test import Client
from django.utils import timezone

from config.schedule import SCHEDULE
from sales import tasks
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


def test_the_watchdog_job_logs_the_stuck_orders_naming_the_oldest(three_confirmed, settings, caplog):
    stuck, _, _ = three_confirmed
    settings.ERP = {**settings.ERP, "PENDING_STUCK_AFTER": 300.0}
    # when: beat runs the every-minute job
    with caplog.at_level(logging.WARNING, logger="sales.watchdogs"):
        found = tasks.stuck_pending_watch.apply().get()
    # then: one order, named, at WARNING
    assert found == 1
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert f"1 sales order(s) waiting for inventory for more than 300 s; the oldest, {stuck}," in caplog.text


def test_the_watchdog_job_is_quiet_while_nothing_is_stuck(services, caplog):
    # given: no order pending past the threshold / when
    with caplog.at_level(logging.WARNING, logger="sales.watchdogs"):
        found = tasks.stuck_pending_watch.apply().get()
    # then
    assert found == 0
    assert caplog.records == []


def test_beat_runs_the_watchdogs_every_minute():
    # given sales' default schedules / then the stuck orders and the dead letters are watched every minute
    watchdogs = {name: entry for name, entry in SCHEDULE.items() if name.startswith("watchdog:")}
    assert {name: entry["task"] for name, entry in watchdogs.items()} == {
        "watchdog: dead letters": "jobs.dead_letters_watch",
        "watchdog: orders stuck pending": "sales.stuck_pending_watch",
    }
    assert all(entry["schedule"] == crontab() for entry in watchdogs.values())
