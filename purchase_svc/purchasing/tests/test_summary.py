"""``GET /orders/summary``: receipts per day and the open replenishment drafts, in three queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erp_testkit.orders import draft_create
from purchasing.models import PurchaseOrder, PurchaseReceipt

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def receive(client, order, *lines):
    body = {"items": [{"item_id": item, "quantity": quantity} for item, quantity in lines]}
    response = client.post(f"/orders/{order['id']}/receipts", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


@pytest.fixture
def bolt(services):
    return services.add_item(sku="BOLT", unit_price="2.50")


@pytest.fixture
def replenishment_drafts(services, as_admin, bolt):
    """Two vendors' replenishment drafts (4 and 10 bolts: 10.00 and 25.00), a manual draft, a sent one."""

    def draft_of(vendor: str, quantity: int, origin: str = "replenishment", status: str = "Draft") -> dict:
        order = draft_create(
            as_admin, party={"vendor_id": services.add_contact("vendors", vendor)}, lines=[(bolt, quantity)]
        )
        PurchaseOrder.objects.filter(pk=order["id"]).update(origin=origin, status=status)
        return order

    small, large = draft_of("Acme Parts", 4), draft_of("Zenith Supply", 10)
    draft_of("Manual Trading", 99, origin="manual")
    draft_of("Cancelled Co", 50, status="Cancelled")
    return small, large


def test_the_summary_adds_up_the_open_replenishment_drafts_largest_first(replenishment_drafts, as_im):
    small, large = replenishment_drafts

    # when
    response = as_im.get("/orders/summary")

    # then
    assert response.status_code == 200
    drafts = response.json()["data"]["replenishment_drafts"]
    assert (drafts["count"], drafts["amount"]) == (2, 35.0)
    assert [(row["id"], row["vendor_name"], row["lines_count"], row["total_amount"]) for row in drafts["largest"]] == [
        (large["id"], "Zenith Supply", 1, 25.0),
        (small["id"], "Acme Parts", 1, 10.0),
    ]


def test_drafts_worth_more_than_one_amount_can_hold_are_answered_not_a_500(replenishment_drafts, as_im):
    # given: both open replenishment drafts of the largest total an order may have
    ids = [order["id"] for order in replenishment_drafts]
    PurchaseOrder.objects.filter(pk__in=ids).update(total_amount=Decimal("999999999999.99"))

    # when
    response = as_im.get("/orders/summary")

    # then: their sum, beyond NUMERIC(14,2)
    assert response.status_code == 200
    assert response.json()["data"]["replenishment_drafts"]["amount"] > 10**12


def test_the_count_is_the_order_list_s_for_the_same_filter(replenishment_drafts, as_fm):
    # when
    summary = as_fm.get("/orders/summary").json()["data"]["replenishment_drafts"]
    listed = as_fm.get("/orders?status=Draft&origin=replenishment").json()["meta"]["total"]
    # then
    assert summary["count"] == listed == 2


@pytest.fixture
def receipts_today_and_before(draft, bolt, as_im):
    """An order of bolts with two receipts today (3 and 4 bolts) and one 31 days ago (outside the 30 days)."""
    order = draft([(bolt, 20)])
    receive(as_im, order, (bolt, 3))
    receive(as_im, order, (bolt, 4))
    old = receive(as_im, order, (bolt, 5))
    PurchaseReceipt.objects.filter(pk=old["id"]).update(created_at=timezone.now() - dt.timedelta(days=31))
    return order


@pytest.mark.usefixtures("receipts_today_and_before")
def test_receipts_are_counted_per_utc_day_with_their_units(as_im):
    # when
    days = as_im.get("/orders/summary").json()["data"]["receipts_per_day"]

    # then
    today = timezone.now().astimezone(dt.UTC).date()
    assert len(days) == 30 and days[-1] == {"date": str(today), "receipts": 2, "units": 7}
    assert days[0]["date"] == str(today - dt.timedelta(days=29))
    assert all(day == {"date": day["date"], "receipts": 0, "units": 0} for day in days[:-1])


def test_the_summary_takes_three_queries_whatever_the_number_of_orders(replenishment_drafts, draft, bolt, as_im):
    # given
    order = draft([(bolt, 20)])
    receive(as_im, order, (bolt, 3))

    # when
    with CaptureQueriesContext(connection) as queries:
        response = as_im.get("/orders/summary")

    # then: the days, the drafts' totals, the largest drafts
    assert response.status_code == 200
    assert len(queries) == 3


def test_the_summary_is_read_only_and_for_signed_in_users(as_admin, client):
    assert as_admin.put("/orders/summary").status_code == 405
    assert client.get("/orders/summary").status_code == 401


def test_a_day_s_receipts_are_the_receipt_list_s_for_that_day_as_the_home_links_it(
    receipts_today_and_before, as_im, admin_client
):
    # given
    order = receipts_today_and_before
    days = as_im.get("/orders/summary").json()["data"]["receipts_per_day"]
    start = dt.datetime.combine(dt.date.fromisoformat(days[-1]["date"]), dt.time.min, tzinfo=dt.UTC)
    first = dt.datetime.combine(dt.date.fromisoformat(days[0]["date"]), dt.time.min, tzinfo=dt.UTC)

    # when: the receipts' admin list, filtered as the home's links filter it (gateway/proxy/home.py)
    today = admin_client.get(
        "/admin/purchasing/purchasereceipt/",
        {"created_at__gte": start.isoformat(), "created_at__lt": (start + dt.timedelta(days=1)).isoformat()},
    )
    thirty_days = admin_client.get("/admin/purchasing/purchasereceipt/", {"created_at__gte": first.isoformat()})

    # then: the same receipts the chart counts, each with what it received and its order
    assert today.status_code == 200
    assert today.context["cl"].result_count == days[-1]["receipts"] == 2
    assert thirty_days.context["cl"].result_count == sum(day["receipts"] for day in days) == 2
    assert b"4 x BOLT" in today.content and f"/admin/purchasing/purchaseorder/{order['id']}/change/" in today.text
