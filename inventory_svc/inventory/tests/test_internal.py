"""The internal reads other services make with a service token: items by ids, availability."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from erp_testkit import auth_client

from ..models import IssueOutcome, SalesOrderIssue

pytestmark = pytest.mark.django_db

LOOKUP, AVAILABILITY = "/internal/items/lookup", "/internal/stock/availability"


def test_lookup_returns_the_items_found_in_the_order_asked(make_item, as_service, django_assert_num_queries):
    # given
    first, second = make_item(sku="L-1", unit_price="1.10"), make_item(sku="L-2", unit_price="0.00")
    unknown = uuid.uuid4()

    # when
    with django_assert_num_queries(1):
        response = as_service.post(LOOKUP, {"ids": [str(second.pk), str(unknown), str(first.pk)]}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": 200,
        "message": "OK",
        "data": [
            {"id": str(second.pk), "sku": "L-2", "name": second.name, "unit_price": 0.0, "active": True},
            {"id": str(first.pk), "sku": "L-1", "name": first.name, "unit_price": 1.1, "active": True},
        ],
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": ["nope"]}, "ids.0"),
        ({"ids": [str(uuid.uuid4()) for _ in range(101)]}, "ids"),
        ({"ids": "abc"}, "ids"),
        ({"ids": [1]}, "ids.0"),  # a number is not a UUID (DRF would read it as UUID(int=1))
    ],
)
def test_lookup_bad_body_is_400_naming_the_field(as_service, payload, field):
    # when
    response = as_service.post(LOOKUP, payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation"
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]


def test_availability_names_what_is_short_by_how_much(make_item, as_service):
    # given
    plenty, scarce = make_item(stock=10), make_item(stock=2)
    unknown = uuid.uuid4()
    lines = [
        {"item_id": str(plenty.pk), "quantity": 4},
        {"item_id": str(scarce.pk), "quantity": 2},
        {"item_id": str(unknown), "quantity": 1},
        {"item_id": str(scarce.pk), "quantity": 1},
    ]

    # when
    response = as_service.post(AVAILABILITY, {"items": lines}, format="json")

    # then: the two lines of one item are added up; an unknown item has none, and is named as unknown
    assert response.status_code == 200
    assert response.json()["data"] == {
        "available": False,
        "short": [
            {"item_id": str(scarce.pk), "requested": 3, "available": 2},
            {"item_id": str(unknown), "requested": 1, "available": 0},
        ],
        "unknown": [str(unknown)],
    }


def test_availability_of_lines_on_hand(make_item, as_service):
    # given
    item = make_item(stock=3)

    # when
    response = as_service.post(AVAILABILITY, {"items": [{"item_id": str(item.pk), "quantity": 3}]}, format="json")

    # then
    assert response.json()["data"] == {"available": True, "short": [], "unknown": []}


def test_availability_counts_the_pending_orders_inventory_has_not_decided_and_no_decided_one_twice(
    make_item, as_service
):
    # given: 10 on hand after an order of 4 was issued (decided: the stock shows it), and an order of 3 not applied yet
    item = make_item(stock=10)
    decided, undecided = uuid.uuid4(), uuid.uuid4()
    SalesOrderIssue.objects.create(order_id=decided, outcome=IssueOutcome.ISSUED)
    pending = [
        {"order_id": str(decided), "item_id": str(item.pk), "quantity": 4},
        {"order_id": str(undecided), "item_id": str(item.pk), "quantity": 3},
        {"order_id": str(uuid.uuid4()), "item_id": str(uuid.uuid4()), "quantity": 50},  # another item's: no claim here
    ]

    # when: 8 asked for
    response = as_service.post(
        AVAILABILITY, {"items": [{"item_id": str(item.pk), "quantity": 8}], "pending": pending}, format="json"
    )

    # then: 7 left for it (10 on hand, 3 claimed), the decided order not counted again
    assert response.status_code == 200
    assert response.json()["data"] == {
        "available": False,
        "short": [{"item_id": str(item.pk), "requested": 8, "available": 7}],
        "unknown": [],
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"items": []}, "items"),
        (
            {
                "items": [{"item_id": str(uuid.uuid4()), "quantity": 1}],
                "pending": [{"order_id": "x", "item_id": str(uuid.uuid4()), "quantity": 1}],
            },
            "pending.0.order_id",
        ),
        (
            {
                "items": [{"item_id": str(uuid.uuid4()), "quantity": 1}],
                "pending": [{"order_id": str(uuid.uuid4()), "item_id": str(uuid.uuid4()), "quantity": 0}],
            },
            "pending.0.quantity",
        ),
        ({"items": [{"item_id": "x", "quantity": 1}]}, "items.0.item_id"),
        ({"items": [{"item_id": 7, "quantity": 1}]}, "items.0.item_id"),
        ({"items": [{"item_id": str(uuid.uuid4()), "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"item_id": str(uuid.uuid4())}]}, "items.0.quantity"),
        ({"items": [{"item_id": str(uuid.uuid4()), "quantity": 1}] * 101}, "items"),
    ],
)
def test_availability_bad_body_is_400_naming_the_field(as_service, payload, field):
    # when
    response = as_service.post(AVAILABILITY, payload, format="json")

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]


@pytest.mark.parametrize("path", [LOOKUP, AVAILABILITY])
@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager", "admin"])
def test_internal_reads_refuse_user_tokens(path, role):
    # when
    response = auth_client(role).post(path, {"ids": [str(uuid.uuid4())]}, format="json")

    # then
    assert response.status_code == 403


@pytest.mark.parametrize("path", [LOOKUP, AVAILABILITY])
def test_internal_reads_need_a_token(path):
    # when
    response = APIClient().post(path, {}, format="json")

    # then
    assert response.status_code == 401


@pytest.mark.parametrize("path", [LOOKUP, AVAILABILITY])
def test_internal_reads_answer_get_with_405(path, as_service):
    # when
    response = as_service.get(path)

    # then
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("path", "caller", "status"),
    [
        (LOOKUP, "sales", 200),
        (LOOKUP, "purchase", 200),
        (LOOKUP, "auth", 403),
        (LOOKUP, "gateway", 403),
        (LOOKUP, "contact", 403),
        (LOOKUP, "inventory", 403),
        (AVAILABILITY, "sales", 200),
        (AVAILABILITY, "purchase", 403),
        (AVAILABILITY, "gateway", 403),
        (AVAILABILITY, "auth", 403),
    ],
)
def test_each_internal_read_serves_only_the_callers_it_names(make_item, path, caller, status):
    # given
    item = make_item(sku="C-1")
    body = {"ids": [str(item.pk)]} if path == LOOKUP else {"items": [{"item_id": str(item.pk), "quantity": 1}]}

    # when: a valid service token of ``caller`` (its user_id is the service's name)
    response = auth_client(None, token_type="service", user_id=caller).post(path, body, format="json")

    # then
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"]["type"] == "forbidden"


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_the_availability_reads_the_decisions_and_the_stock_in_one_statement(make_item):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ..lines import PendingLine, ShortLine, StockLine
    from ..selectors import stock_availability

    # given: outside any transaction, as the view runs: an order decided already and one not yet
    item = make_item(stock=10)
    decided, undecided = uuid.uuid4(), uuid.uuid4()
    SalesOrderIssue.objects.create(order_id=decided, outcome=IssueOutcome.ISSUED)
    pending = [PendingLine(order_id=decided, item_id=item.pk, quantity=4), PendingLine(undecided, item.pk, 3)]

    # when
    with CaptureQueriesContext(connection) as queries:
        availability = stock_availability(lines=[StockLine(item.pk, 8)], pending=pending)

    # then: one statement, which sees one snapshot: two reads either side of a decision's commit would count its
    # stock twice (still claimed, already gone), and in a transaction around them they would be five round trips
    [statement] = [query["sql"] for query in queries.captured_queries]
    assert statement.lstrip("(").startswith("SELECT")
    assert (availability.available, availability.short) == (
        False,
        [ShortLine(item_id=item.pk, requested=8, available=7)],
    )


def test_the_availability_check_is_one_statement_text_whatever_the_numbers_of_items_and_orders(postgresql, make_item):
    from django.db import connection

    from ..lines import PendingLine, StockLine
    from ..selectors import stock_availability

    # given: checks of 1 to 3 items with 0 to 5 pending orders, the text of each statement recorded as Django sends it
    items = [make_item(sku=f"SHAPE-{index}", stock=10) for index in range(3)]
    texts = set()

    def record(execute, sql, params, many, context):
        texts.add(sql)
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(record):
        for count in range(1, 4):
            for orders in (0, 1, 5):
                lines = [StockLine(item.pk, 1) for item in items[:count]]
                stock_availability(lines=lines, pending=[PendingLine(uuid.uuid4(), items[0].pk, 1)] * orders)

    # then: one text, prepared once per connection; an IN list would make one per pair of lengths, of which
    # psycopg keeps 100 per connection, pushing the service's other prepared statements out
    assert len(texts) == 1, texts
