"""``GET /items/summary``: what the back office's home shows of stock, in a fixed number of queries."""

from __future__ import annotations

import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.test.utils import CaptureQueriesContext

from erp_testkit import auth_client
from inventory.imports import item_import
from inventory.lines import StockLine
from inventory.models import Item, Stock
from inventory.selectors import item_stock_summary
from inventory.services import (
    MAX_QUANTITY,
    item_create,
    item_update,
    stock_adjust,
    stock_issue_for_order,
    stock_receive_for_receipt,
    stock_return_for_order,
)

from .conftest import confirm_allowing_backorder, on_hand

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def stock_floor(make_item):
    """Four items: 2 below their level of 10, one at it, one above it; an archived one below it."""
    items = {
        "deep": make_item(sku="DEEP", reorder_level=10, stock=1, unit_price=Decimal("2.50")),
        "near": make_item(sku="NEAR", reorder_level=10, stock=7, unit_price=Decimal("1.00")),
        "at": make_item(sku="AT", reorder_level=10, stock=10, unit_price=Decimal("0.10")),
        "above": make_item(sku="ABOVE", reorder_level=10, stock=11, unit_price=Decimal("3.00")),
        "archived": make_item(sku="GONE", reorder_level=10, stock=2, unit_price=Decimal("5.00"), active=False),
    }
    return items


def test_the_summary_counts_active_items_at_or_below_their_level_furthest_first_and_values_the_stock(
    stock_floor, as_im
):
    # when
    response = as_im.get("/items/summary")

    # then
    assert response.status_code == 200
    summary = response.json()["data"]
    assert summary["below_reorder_level"]["count"] == 3
    assert [
        (row["sku"], row["quantity"], row["shortfall"]) for row in summary["below_reorder_level"]["furthest_below"]
    ] == [
        ("DEEP", 1, 9),
        ("NEAR", 7, 3),
        ("AT", 10, 0),
    ]
    # 1 x 2.50 + 7 x 1.00 + 10 x 0.10 + 11 x 3.00 + 2 x 5.00 (archived stock is still worth its price)
    assert summary["stock_value"] == 53.5
    assert summary["backorders"] == {"units": 0, "orders": 0, "oldest": []}


def test_the_count_is_the_item_lists_for_the_same_filter(stock_floor, as_fm):
    # when
    summary = as_fm.get("/items/summary").json()["data"]
    listed = as_fm.get("/items?below_reorder_level=true&active=true").json()["meta"]["total"]

    # then
    assert summary["below_reorder_level"]["count"] == listed == 3


def test_backorders_are_added_up_per_order_oldest_confirmation_first(make_item, as_im):
    # given: two items with 1 on hand; three orders wait, the second confirmed first
    bolt, nut = make_item(sku="BOLT", stock=1), make_item(sku="NUT", stock=1)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    confirm_allowing_backorder(second, (bolt, 4), (nut, 3), minutes=1)  # 3 + 2 waiting
    confirm_allowing_backorder(first, (bolt, 2), minutes=5)  # 2 waiting
    confirm_allowing_backorder(third, (nut, 6), minutes=9)  # 6 waiting

    # when
    backorders = as_im.get("/items/summary").json()["data"]["backorders"]

    # then
    assert (backorders["units"], backorders["orders"]) == (13, 3)
    assert [(row["order_id"], row["units"], row["items"]) for row in backorders["oldest"]] == [
        (str(second), 5, 2),
        (str(first), 2, 1),
        (str(third), 6, 1),
    ]
    assert backorders["oldest"][0]["confirmed_at"] == "2026-12-01T09:01:00Z"


def test_the_summary_takes_four_queries_whatever_the_number_of_items(make_item, as_im):
    # given: items below their level, and an order waiting for two of them
    items = [make_item(reorder_level=20, stock=index) for index in range(1, 15)]
    confirm_allowing_backorder(uuid.uuid4(), (items[0], 9), (items[1], 9), minutes=0)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = as_im.get("/items/summary")

    # then: the totals, the ten furthest below, the backorders' totals, the orders waiting longest
    assert response.status_code == 200
    assert len(queries) == 4
    assert len(response.json()["data"]["below_reorder_level"]["furthest_below"]) == 10


def test_stock_worth_more_than_one_amount_can_hold_is_answered_not_a_500(make_item, as_im):
    # given: stock worth over a trillion (two rows at the largest price, each beyond NUMERIC(14,2))
    for sku in ("GOLD-1", "GOLD-2"):
        make_item(sku=sku, stock=MAX_QUANTITY, unit_price=Decimal("999999999999.99"))

    # when
    response = as_im.get("/items/summary")

    # then: their sum (exact on PostgreSQL; SQLite, the embedded run's, adds up in floating point)
    assert response.status_code == 200
    assert response.json()["data"]["stock_value"] > 4 * 10**21


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_summary_is_read_only(as_admin, method):
    # when
    response = getattr(as_admin, method)("/items/summary")
    # then
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "method_not_allowed"


def test_the_summary_needs_a_signed_in_user(client):
    # when
    response = client.get("/items/summary")
    # then
    assert response.status_code == 401


def recomputed_from_the_items() -> tuple[int, Decimal, list[tuple[str, int]]]:
    """The summary's figures from scratch: every item joined to its stock (what the kept figures spare the home)."""
    at_or_below = Q(active=True, stock__quantity__lte=F("reorder_level"))
    totals = Item.objects.aggregate(
        below=Count("pk", filter=at_or_below), value=Sum(F("stock__quantity") * F("unit_price"))
    )
    furthest = (
        Item.objects.filter(at_or_below)
        .annotate(shortfall=F("reorder_level") - F("stock__quantity"))
        .order_by("-shortfall", "sku")
        .values_list("sku", "shortfall")[:10]
    )
    return totals["below"], totals["value"] or Decimal("0"), list(furthest)


def kept_figures() -> tuple[int, Decimal, list[tuple[str, int]]]:
    summary = item_stock_summary()
    below = summary["below_reorder_level"]
    return below["count"], summary["stock_value"], [(row["sku"], row["shortfall"]) for row in below["furthest_below"]]


def test_the_kept_figures_follow_every_change_of_stock_price_level_and_activity(make_item):
    # given: items made by the API's service, by an import, and moved every way stock moves
    bolt = item_create(sku="BOLT", name="Bolt", unit_price=Decimal("0.25"), reorder_level=5)
    nut = make_item(sku="NUT", reorder_level=3, stock=8, unit_price=Decimal("0.10"))
    item_import(data=b"sku,name,unit_price,reorder_level,quantity\nWASHER,Washer,0.05,10,4\nNUT,,,,2\n", actor="t")
    washer = Item.objects.get(sku="WASHER")
    stock_adjust(changes={bolt.pk: 9}, actor="t")
    order, receipt = uuid.uuid4(), uuid.uuid4()
    stock_issue_for_order(order_id=order, lines=[StockLine(item_id=bolt.pk, quantity=5)], actor="sales")
    stock_receive_for_receipt(
        order_id=uuid.uuid4(), receipt_id=receipt, lines=[StockLine(item_id=washer.pk, quantity=3)], actor="purchase"
    )
    stock_return_for_order(order_id=order, actor="sales")
    confirm_allowing_backorder(uuid.uuid4(), (nut, 5), minutes=1)  # 2 issued, 3 wait
    # when: the item's own fields the figures depend on change, one by one and together
    item_update(item=bolt, data={"reorder_level": 20})
    item_update(item=nut, data={"active": False})
    item_update(item=washer, data={"unit_price": Decimal("1.50"), "reorder_level": 6, "name": "Washer M6"})
    item_import(data=b"sku,unit_price,reorder_level\nNUT,0.20,1\n", actor="t")
    item_update(item=nut, data={"active": True})

    # then: what the home reads equals what a pass over every item says, and the check finds nothing
    assert kept_figures() == recomputed_from_the_items()
    assert kept_figures() == (2, Decimal("12.75"), [("BOLT", 11), ("NUT", 1)])
    call_command("check_stock_ledger", stdout=StringIO())


def test_check_stock_ledger_finds_wrong_figures_and_repair_recomputes_them(make_item):
    # given: one row whose figures a writer behind the services' back (or the release before them) left wrong
    right = make_item(sku="RIGHT", reorder_level=5, stock=2)
    wrong = make_item(sku="WRONG", reorder_level=5, stock=9, unit_price=Decimal("2.00"))
    Stock.objects.filter(item_id=wrong.pk).update(reorder_shortfall=None, value=None)
    Stock.objects.filter(item_id=right.pk).update(reorder_shortfall=1)
    err = StringIO()

    # when / then: the check names both and fails, changing nothing
    with pytest.raises(CommandError) as caught:
        call_command("check_stock_ledger", stdout=StringIO(), stderr=err)
    assert str(caught.value) == "2 stock row(s) keep wrong summary figures."
    assert err.getvalue().splitlines() == [
        f"RIGHT ({right.pk}): summary figures (reorder shortfall, value) (1, 25.00), recomputed (3, 25.00)",
        f"WRONG ({wrong.pk}): summary figures (reorder shortfall, value) (none, none), recomputed (none, 18.00)",
    ]
    assert Stock.objects.get(item_id=wrong.pk).value is None

    # when: repaired
    out = StringIO()
    call_command("check_stock_ledger", "--repair", stdout=out, stderr=StringIO())

    # then: recomputed, and the next check passes
    assert out.getvalue().splitlines()[0] == "stock summary: 2 row(s) recomputed"
    assert kept_figures() == recomputed_from_the_items()
    call_command("check_stock_ledger", stdout=StringIO())


def test_the_home_s_scoped_token_reads_the_summary_and_nothing_else(make_item):
    # given: the token auth_svc hands the gateway for an admin's home (scope "home")
    item = make_item(stock=3)
    home = auth_client("admin", scope="home")

    # when / then: the summary is read...
    assert home.get("/items/summary").status_code == 200
    # ... and nothing else, read or written, that the admin's own token could
    refused = [
        home.get("/items"),
        home.get(f"/items/{item.pk}/stock"),
        home.post(f"/items/{item.pk}/stock", {"quantity": 5}, format="json"),
        home.delete(f"/items/{item.pk}"),
        home.post("/items/summary"),
    ]
    assert [response.status_code for response in refused] == [403] * 5
    assert on_hand(item) == 3
