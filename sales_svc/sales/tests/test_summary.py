"""``GET /orders/summary``: the orders stuck pending and the orders confirmed per day, in three queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erp_testkit import auth_client
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db

ADMIN_URL = "/admin/sales/salesorder/"


@pytest.fixture
def confirmed(services, draft, admin_client):
    """Four confirmed orders of 1 x 2.50 each: pending for an hour, pending for a minute, issued, issued 40 days ago."""
    orders = [draft([(services.add_item(stock=5, unit_price="2.50"), 1)]) for _ in range(4)]
    ids = [order["id"] for order in orders]
    admin_client.post(ADMIN_URL, {"action": "confirm", "_selected_action": ids})
    now = timezone.now()
    stuck, recent, answered, old = ids
    SalesOrder.objects.filter(pk=stuck).update(confirmed_at=now - dt.timedelta(hours=1))
    SalesOrder.objects.filter(pk=recent).update(confirmed_at=now - dt.timedelta(minutes=1))
    SalesOrder.objects.filter(pk=answered).update(confirmed_at=now, stock_status="issued")
    SalesOrder.objects.filter(pk=old).update(confirmed_at=now - dt.timedelta(days=40), stock_status="issued")
    return stuck, recent, answered, old


def test_the_summary_counts_the_orders_stuck_pending_oldest_first(confirmed, as_im, settings):
    stuck, *_ = confirmed
    settings.ERP = {**settings.ERP, "PENDING_STUCK_AFTER": 300.0}

    # when
    response = as_im.get("/orders/summary")

    # then: the one pending past 5 minutes, not the one pending for a minute
    assert response.status_code == 200
    summary = response.json()["data"]["stuck_pending"]
    assert (summary["count"], summary["older_than_seconds"]) == (1, 300.0)
    assert [(row["id"], row["total_amount"]) for row in summary["oldest"]] == [(stuck, 2.5)]


def test_the_summary_gives_each_of_the_last_30_days_oldest_first(confirmed, as_fm):
    # when
    days = as_fm.get("/orders/summary").json()["data"]["confirmed_per_day"]

    # then: 30 UTC days ending today; the order confirmed 40 days ago is outside them
    today = timezone.now().astimezone(dt.UTC).date()
    assert len(days) == 30
    assert (days[0]["date"], days[-1]["date"]) == (str(today - dt.timedelta(days=29)), str(today))
    assert sum(day["orders"] for day in days) == 3
    counted = {day["date"]: (day["orders"], day["amount"]) for day in days if day["orders"]}
    hour_ago = (timezone.now() - dt.timedelta(hours=1)).astimezone(dt.UTC).date()
    if hour_ago == today:
        assert counted == {str(today): (3, 7.5)}
    else:  # the test runs in the first hour of a UTC day
        assert sum(orders for orders, _ in counted.values()) == 3
    assert all(day["amount"] == 0 for day in days if not day["orders"])


def test_a_day_worth_more_than_one_amount_can_hold_is_answered_not_a_500(confirmed, as_fm):
    # given: the orders confirmed today each of the largest total an order may have
    SalesOrder.objects.filter(pk__in=confirmed[1:3]).update(total_amount=Decimal("999999999999.99"))

    # when
    response = as_fm.get("/orders/summary")

    # then: their sum, beyond NUMERIC(14,2)
    assert response.status_code == 200
    assert max(day["amount"] for day in response.json()["data"]["confirmed_per_day"]) > 10**12


def test_the_count_is_the_admin_filter_s(confirmed, as_im, admin_client, settings):
    settings.ERP = {**settings.ERP, "PENDING_STUCK_AFTER": 30.0}
    # when
    summary = as_im.get("/orders/summary").json()["data"]["stuck_pending"]
    listing = admin_client.get(ADMIN_URL, {"stuck": "pending"})
    # then: the hour-old and the minute-old pending ones, both ways
    assert summary["count"] == listing.context["cl"].result_count == 2


def test_the_summary_takes_three_queries_whatever_the_number_of_orders(confirmed, as_im):
    # when
    with CaptureQueriesContext(connection) as queries:
        response = as_im.get("/orders/summary")
    # then: the stuck ones counted, the oldest of them, the days
    assert response.status_code == 200
    assert len(queries) == 3


def test_the_summary_is_read_only_and_for_signed_in_users(as_admin, client):
    assert as_admin.post("/orders/summary").status_code == 405
    assert client.get("/orders/summary").status_code == 401


def test_the_dead_letters_are_for_admins_only(as_admin, as_fm, monkeypatch):
    # given: the last broker probe counted 3 events in sales' DLQ
    from common import health
    from common.events import conf
    from common.events.topology import Topology

    dlq = Topology().dlq_name(conf.consumer_name())
    monkeypatch.setattr(health, "broker_status", lambda: "ok")
    monkeypatch.setattr(health, "queue_report", lambda: {dlq: {"messages": 3, "consumers": 0}})

    # when
    refused = as_fm.get("/events/dead-letters")
    answered = as_admin.get("/events/dead-letters")

    # then
    assert refused.status_code == 403
    assert answered.status_code == 200
    assert answered.json()["data"] == {"queue": dlq, "dead_letters": 3}


def test_dead_letters_not_counted_yet_are_null_not_zero(as_admin, monkeypatch):
    # given: no probe has counted the queues yet (or the broker is away)
    from common import health

    monkeypatch.setattr(health, "broker_status", lambda: "down: OSError")
    monkeypatch.setattr(health, "queue_report", dict)
    # when
    data = as_admin.get("/events/dead-letters").json()["data"]
    # then
    assert data["dead_letters"] is None and data["queue"].endswith("sales.events.dlq")


def test_the_home_s_scoped_token_reads_the_summary_and_the_dead_letters_and_nothing_else():
    # given: the token auth_svc hands the gateway for an admin's home (scope "home")
    home = auth_client("admin", scope="home")

    # when / then
    assert home.get("/orders/summary").status_code == 200
    assert home.get("/events/dead-letters").status_code == 200
    assert [home.get("/orders").status_code, home.post("/orders", {}, format="json").status_code] == [403, 403]
