"""Backorder-allowed orders: set on the draft, confirmed whatever is on hand, their lines following inventory's
figures (newest version wins), cancelled while waiting; and confirmations counting the orders still pending."""

from __future__ import annotations

import json
import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.events import registry
from erp_testkit.queries import statements
from sales import services as sales_services
from sales.models import SalesOrder, SalesOrderLine

pytestmark = pytest.mark.django_db

AVAILABILITY = "/internal/stock/availability"


def post(client, order, action):
    return client.post(f"/orders/{order['id']}/{action}")


def backorder_draft(as_admin, customer_id, lines, allow_backorder=True):
    body = {
        "customer_id": customer_id,
        "allow_backorder": allow_backorder,
        "items": [{"item_id": item, "quantity": quantity} for item, quantity in lines],
    }
    response = as_admin.post("/orders", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def progress(order, *items):
    return {
        "order_id": order["id"],
        "items": [
            {"item_id": item, "quantity_issued": issued, "quantity_backordered": waiting}
            for item, issued, waiting in items
        ],
    }


def lines_of(order) -> list[tuple[int, int, int]]:
    return [
        (line.quantity, line.quantity_issued, line.quantity_backordered)
        for line in SalesOrderLine.objects.filter(order_id=order["id"]).order_by("position")
    ]


def state_of(order) -> tuple[str, str | None]:
    row = SalesOrder.objects.get(pk=order["id"])
    return row.status, row.stock_status


# --- the option ----------------------------------------------------------------------------


def test_allow_backorder_defaults_to_false_and_is_answered_with_per_line_figures(services, draft, as_fm):
    # given
    item = services.add_item(stock=5)

    # when
    order = draft([(item, 2)])

    # then
    assert order["allow_backorder"] is False
    assert [(line["quantity_issued"], line["quantity_backordered"]) for line in order["items"]] == [(0, 0)]


def test_put_sets_allow_backorder_and_a_put_without_it_keeps_it(services, as_admin, customer_id):
    # given
    item = services.add_item(stock=0)
    order = backorder_draft(as_admin, customer_id, [(item, 1)], allow_backorder=False)

    # when
    turned_on = as_admin.put(
        f"/orders/{order['id']}", {"items": [{"item_id": item, "quantity": 3}], "allow_backorder": True}, format="json"
    )
    kept = as_admin.put(f"/orders/{order['id']}", {"items": [{"item_id": item, "quantity": 4}]}, format="json")

    # then
    assert turned_on.json()["data"]["allow_backorder"] is True
    assert (kept.json()["data"]["allow_backorder"], kept.json()["data"]["items"][0]["quantity"]) == (True, 4)


def test_allow_backorder_that_is_not_a_boolean_is_a_400_and_creates_nothing(services, as_admin, customer_id):
    # given
    item = services.add_item(stock=0)
    body = {"customer_id": customer_id, "allow_backorder": "perhaps", "items": [{"item_id": item, "quantity": 1}]}

    # when
    response = as_admin.post("/orders", body, format="json")

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["allow_backorder"]
    assert not SalesOrder.objects.exists()


# --- confirm ---------------------------------------------------------------------------------


def test_a_backorder_allowed_order_is_confirmed_with_nothing_on_hand_without_asking(
    services, as_admin, as_fm, customer_id, outbox
):
    # given
    item = services.add_item(unit_price="2.50", stock=0)
    order = backorder_draft(as_admin, customer_id, [(item, 10)])

    # when
    response = post(as_fm, order, "confirm")

    # then
    assert response.status_code == 200, response.json()
    assert (response.json()["data"]["status"], response.json()["data"]["stock_status"]) == ("Confirmed", "pending")
    assert services.calls(AVAILABILITY) == []
    event, data = outbox()[-1]
    assert (event, data["allow_backorder"], data["items"][0]["quantity"]) == ("sales.order.confirmed", True, 10)


def test_confirm_counts_orders_still_pending_at_inventory_against_its_stock(services, draft, as_fm):
    # given: 5 on hand, and an order of 5 confirmed whose event inventory has not applied (the broker is down)
    item = services.add_item(stock=5)
    first, second = draft([(item, 5)]), draft([(item, 5)])
    assert post(as_fm, first, "confirm").status_code == 200

    # when
    response = post(as_fm, second, "confirm")

    # then: refused, as nothing is left for it once the first is issued
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {
            "field": "items.0.quantity",
            "message": f"item {item}: requested 5, available 0",
            "item_id": item,
            "requested": 5,
            "available": 0,
        }
    ]
    assert services.calls(AVAILABILITY)[-1] == {
        "items": [{"item_id": item, "quantity": 5}],
        "pending": [{"order_id": first["id"], "item_id": item, "quantity": 5}],
    }
    assert state_of(second) == ("Draft", None)


def test_more_pending_lines_than_inventory_counts_in_one_check_make_confirm_a_503_and_write_nothing(
    services, draft, as_fm, monkeypatch
):
    # given: inventory counts 2 pending lines a check (5,000 in truth), and 3 orders wait for its answer
    monkeypatch.setattr(sales_services, "MAX_PENDING_CLAIMS", 2)
    item = services.add_item(stock=100)
    for _ in range(3):
        assert post(as_fm, draft([(item, 1)]), "confirm").status_code == 200
    order = draft([(item, 1)])

    # when
    response = post(as_fm, order, "confirm")

    # then: no answer rather than one that leaves a claim out
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert state_of(order) == ("Draft", None)


def test_confirm_no_longer_counts_an_order_inventory_has_answered(services, draft, as_fm, deliver):
    # given: the first order's stock was issued (inventory's stock already shows it)
    item = services.add_item(stock=5)
    first, second = draft([(item, 5)]), draft([(item, 5)])
    post(as_fm, first, "confirm")
    deliver(registry.STOCK_ISSUED, {"order_id": first["id"], "items": []})

    # when
    response = post(as_fm, second, "confirm")

    # then
    assert response.status_code == 200
    assert services.calls(AVAILABILITY)[-1] == {"items": [{"item_id": item, "quantity": 5}], "pending": []}


def test_orders_pending_past_what_inventory_can_count_make_confirm_a_409_not_a_502(
    services, as_admin, as_fm, customer_id, draft
):
    # given: 22 backorder-allowed orders of 100,000,000 each (sales' largest) confirmed, none applied by inventory
    # yet, and 5 on hand
    item = services.add_item(unit_price="0.01", stock=5)
    for _ in range(22):
        waiting = backorder_draft(as_admin, customer_id, [(item, 1_000_000)] * 100)
        assert post(as_fm, waiting, "confirm").status_code == 200
    order = draft([(item, 1)])

    # when
    response = post(as_fm, order, "confirm")

    # then: short, and inventory was asked for no more than it accepts (2**31 - 1 a line; beyond, it answers 400)
    assert response.status_code == 409, response.json()
    assert [(d["requested"], d["available"]) for d in response.json()["error"]["details"]] == [(1, 0)]
    asked = services.calls(AVAILABILITY)[-1]
    assert asked["items"] == [{"item_id": item, "quantity": 1}]
    assert [claim["quantity"] for claim in asked["pending"]] == [100_000_000] * 22
    assert state_of(order) == ("Draft", None)


# --- inventory's figures -----------------------------------------------------------------------


@pytest.fixture
def waiting_order(services, as_admin, as_fm, customer_id):
    """A confirmed backorder-allowed order of 7 + 3 of one item (two lines) and 2 of another."""
    scarce, plenty = services.add_item(stock=0), services.add_item(stock=0)
    order = backorder_draft(as_admin, customer_id, [(scarce, 7), (scarce, 3), (plenty, 2)])
    post(as_fm, order, "confirm")
    return order, scarce, plenty


def test_backordered_figures_spread_over_the_lines_first_line_first(waiting_order, deliver):
    # given
    order, scarce, plenty = waiting_order

    # when: 6 of 10 issued, 4 wait; the other item in full
    deliver(registry.STOCK_BACKORDERED, progress(order, (scarce, 6, 4), (plenty, 2, 0)))

    # then
    assert state_of(order) == ("Confirmed", "backordered")
    assert lines_of(order) == [(7, 6, 1), (3, 0, 3), (2, 2, 0)]


def test_the_last_fill_makes_the_order_issued(waiting_order, deliver):
    # given
    order, scarce, plenty = waiting_order
    deliver(registry.STOCK_BACKORDERED, progress(order, (scarce, 6, 4), (plenty, 2, 0)))

    # when
    deliver(registry.STOCK_FILLED, progress(order, (scarce, 10, 0), (plenty, 2, 0)), aggregate_version=2)

    # then
    assert state_of(order) == ("Confirmed", "issued")
    assert lines_of(order) == [(7, 7, 0), (3, 3, 0), (2, 2, 0)]


@pytest.mark.parametrize("seed", range(5))
def test_figures_in_any_order_and_redelivered_end_with_the_newest(waiting_order, deliver, seed):
    # given: the decision and three fills, shuffled, some delivered twice under new event ids
    order, scarce, plenty = waiting_order
    events = [
        (registry.STOCK_BACKORDERED, 1, progress(order, (scarce, 0, 10), (plenty, 2, 0))),
        (registry.STOCK_FILLED, 2, progress(order, (scarce, 3, 7), (plenty, 2, 0))),
        (registry.STOCK_FILLED, 3, progress(order, (scarce, 8, 2), (plenty, 2, 0))),
        (registry.STOCK_FILLED, 4, progress(order, (scarce, 9, 1), (plenty, 2, 0))),
    ]
    rng = random.Random(seed)
    stream = events + rng.sample(events, 2)
    rng.shuffle(stream)

    # when
    for event_type, version, data in stream:
        deliver(event_type, data, aggregate_version=version)

    # then
    assert state_of(order) == ("Confirmed", "backordered")
    assert lines_of(order) == [(7, 7, 0), (3, 2, 1), (2, 2, 0)]
    assert SalesOrder.objects.get(pk=order["id"]).stock_version == 4


def test_a_backordered_order_may_be_paid(waiting_order, deliver, as_fm):
    # given
    order, scarce, plenty = waiting_order
    deliver(registry.STOCK_BACKORDERED, progress(order, (scarce, 0, 10), (plenty, 0, 2)))

    # when
    response = post(as_fm, order, "pay")

    # then
    assert response.status_code == 200
    assert state_of(order) == ("Paid", "backordered")


def test_cancelling_a_backordered_order_tells_inventory_and_its_give_back_settles_it(
    waiting_order, deliver, as_fm, outbox
):
    # given: 6 issued, 4 waiting
    order, scarce, plenty = waiting_order
    deliver(registry.STOCK_BACKORDERED, progress(order, (scarce, 6, 4), (plenty, 2, 0)))

    # when
    response = post(as_fm, order, "cancel")
    returned = (
        {"item_id": scarce, "quantity": 6, "quantity_after": 6},
        {"item_id": plenty, "quantity": 2, "quantity_after": 2},
    )
    deliver(registry.STOCK_RETURNED, {"order_id": order["id"], "items": list(returned)}, aggregate_version=2)
    deliver(registry.STOCK_FILLED, progress(order, (scarce, 9, 1), (plenty, 2, 0)), aggregate_version=2)

    # then: what was issued stays on the lines as history, nothing waits, a late fill changes nothing
    assert response.status_code == 200
    assert outbox()[-1] == ("sales.order.cancelled", {"order_id": order["id"]})
    assert state_of(order) == ("Cancelled", "returned")
    assert lines_of(order) == [(7, 6, 0), (3, 0, 0), (2, 2, 0)]


def test_a_confirmed_order_still_pending_cannot_be_cancelled_even_if_it_allows_backorders(waiting_order, as_fm):
    # given
    order, _, _ = waiting_order

    # when
    response = post(as_fm, order, "cancel")

    # then
    assert response.status_code == 409
    assert state_of(order) == ("Confirmed", "pending")


# --- check_backorders --------------------------------------------------------------------------


def test_check_backorders_exports_each_confirmed_order_per_item(waiting_order, deliver):
    # given
    order, scarce, plenty = waiting_order
    deliver(registry.STOCK_BACKORDERED, progress(order, (scarce, 6, 4), (plenty, 2, 0)))
    out, err = StringIO(), StringIO()

    # when
    call_command("check_backorders", "--export", "-", stdout=out, stderr=err)

    # then
    items = sorted(json.loads(out.getvalue())["orders"][0]["items"], key=lambda item: item["ordered"])
    assert items == [
        {"item_id": plenty, "ordered": 2, "issued": 2, "backordered": 0},
        {"item_id": scarce, "ordered": 10, "issued": 6, "backordered": 4},
    ]
    assert "1 confirmed order(s) checked" in err.getvalue()


def test_check_backorders_catches_lines_that_do_not_follow_the_stock_status(waiting_order, deliver):
    # given: an issued order whose line was changed behind the services' back
    order, scarce, plenty = waiting_order
    deliver(registry.STOCK_FILLED, progress(order, (scarce, 10, 0), (plenty, 2, 0)), aggregate_version=2)
    SalesOrderLine.objects.filter(order_id=order["id"], position=1).update(quantity_issued=1)
    err = StringIO()

    # when
    with pytest.raises(CommandError):
        call_command("check_backorders", stdout=StringIO(), stderr=err)

    # then
    assert (
        err.getvalue() == f"order {order['id']} (issued) line 1: 1 issued and 0 backordered of 3, expected all issued\n"
    )


def test_the_nightly_integrity_job_runs_check_backorders_and_records_a_difference(waiting_order, deliver, caplog):
    import logging

    from celery import current_app

    import common.jobs.tasks  # noqa: F401  (registers the jobs.* tasks, as the worker's autodiscovery does)
    from common.jobs.models import IntegrityCheck
    from config.schedule import SCHEDULE

    # given: an issued order whose line was changed behind the services' back
    order, scarce, plenty = waiting_order
    deliver(registry.STOCK_FILLED, progress(order, (scarce, 10, 0), (plenty, 2, 0)), aggregate_version=2)
    SalesOrderLine.objects.filter(order_id=order["id"], position=1).update(quantity_issued=1)

    # when: every integrity job of sales' default schedules runs, as beat sends them
    integrity = [entry for name, entry in SCHEDULE.items() if name.startswith("integrity:")]
    with caplog.at_level(logging.ERROR):
        for entry in integrity:
            current_app.tasks[entry["task"]](*entry.get("args", ()))

    # then: the difference is an ERROR line and a failing check, never a silent pass
    assert [entry["args"] for entry in integrity] == [("check_backorders",)]
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert error.startswith("integrity check check_backorders failed: 1 line figure(s)")
    assert list(IntegrityCheck.objects.values_list("command", "passed", "differences")) == [
        ("check_backorders", False, 1)
    ]


@pytest.mark.parametrize("lines", [1, 5])
def test_the_confirm_backordered_and_filled_query_counts_are_pinned(
    services, customer_id, as_admin, as_fm, deliver, lines
):
    # given: a backorder-allowed draft of as many lines, none of it on hand
    items = [services.add_item() for _ in range(lines)]
    order = backorder_draft(as_admin, customer_id, [(item, 2) for item in items])

    # when: confirmed, everything waits, then everything arrives
    with CaptureQueriesContext(connection) as confirming:
        assert post(as_fm, order, "confirm").status_code == 200
    with CaptureQueriesContext(connection) as backordered:
        assert deliver(registry.STOCK_BACKORDERED, progress(order, *[(item, 0, 2) for item in items]))
    with CaptureQueriesContext(connection) as filled:
        assert deliver(registry.STOCK_FILLED, progress(order, *[(item, 2, 0) for item in items]), aggregate_version=2)

    # then: the confirmation without the quantities of the orders still pending (no stock check): order and lines,
    # then under the lock order, lines, UPDATE, status history, outbox and its pg_notify; each answer the inbox row,
    # the order locked, its lines read, written in one UPDATE, and the order's UPDATE
    assert state_of(order) == ("Confirmed", "issued")
    assert statements(confirming) == ["SELECT", "SELECT", "SELECT", "SELECT", "UPDATE", "INSERT", "INSERT", "SELECT"]
    assert statements(backordered) == statements(filled) == ["INSERT", "SELECT", "SELECT", "UPDATE", "UPDATE"]
