"""Confirm, pay and cancel through the API, and inventory's answers setting stock_status."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.events import registry
from erp_testkit import auth_client
from erp_testkit.fake_services import closed_port_url
from erp_testkit.queries import statements
from sales import services as sales_services
from sales.models import SalesOrder, SalesOrderLine

pytestmark = pytest.mark.django_db

LOOKUP, AVAILABILITY = "/internal/items/lookup", "/internal/stock/availability"


def post(client, order, action, **headers):
    return client.post(f"/orders/{order['id']}/{action}", **headers)


def status_of(order) -> tuple[str, str | None]:
    row = SalesOrder.objects.get(pk=order["id"])
    return row.status, row.stock_status


@pytest.mark.parametrize("action", ["confirm", "pay", "cancel"])
def test_transitions_answer_unknown_and_malformed_ids_in_the_envelope(services, draft, as_admin, action):
    # given: a draft; the path's id goes to the service as it is (no get_object() before it)
    order = draft([(services.add_item(stock=5), 1)])

    # when
    unknown = as_admin.post(f"/orders/{uuid.uuid4()}/{action}")
    malformed = [as_admin.post(f"/orders/{value}/{action}") for value in ("nope", "42", "x" * 36, f"{order['id']}0")]

    # then
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found"
    assert [(answer.status_code, answer.json()["error"]["type"]) for answer in malformed] == [(400, "bad_request")] * 4
    assert status_of(order) == ("Draft", None)


def test_a_transition_takes_the_id_in_any_spelling_of_the_uuid(services, draft, as_fm):
    # given: the id in capitals and braces (a UUID all the same, as for a read by id)
    order = draft([(services.add_item(stock=5), 1)])

    # when
    response = as_fm.post(f"/orders/{{{order['id'].upper()}}}/confirm")

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["id"] == order["id"]


def test_confirm_moves_to_confirmed_and_emits_the_event(services, draft, as_fm, outbox):
    # given
    item = services.add_item(unit_price="19.99", stock=10)
    order = draft([(item, 7), (item, 2)])

    # when
    response = post(as_fm, order, "confirm")

    # then
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["status"], data["stock_status"]) == ("Confirmed", "pending")
    assert data["confirmed_at"] is not None
    assert services.calls(AVAILABILITY) == [{"items": [{"item_id": item, "quantity": 9}], "pending": []}]
    assert services.calls(LOOKUP) == [{"ids": [item]}]  # the draft's: the availability check answers for the items
    assert outbox() == [
        (
            "sales.order.confirmed",
            {
                "order_id": order["id"],
                "customer_id": order["customer_id"],
                "total_amount": Decimal("179.91"),
                "allow_backorder": False,
                "items": [
                    {"item_id": item, "quantity": 7, "unit_price": Decimal("19.99"), "subtotal": Decimal("139.93")},
                    {"item_id": item, "quantity": 2, "unit_price": Decimal("19.99"), "subtotal": Decimal("39.98")},
                ],
            },
        )
    ]


def test_confirm_with_insufficient_stock_is_409_naming_short_lines_and_emits_nothing(services, draft, as_fm, outbox):
    # given
    plenty, scarce = services.add_item(stock=100), services.add_item(stock=2)
    order = draft([(plenty, 1), (scarce, 5)])

    # when
    response = post(as_fm, order, "confirm")

    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "conflict"
    assert error["details"] == [
        {
            "field": "items.1.quantity",
            "message": f"item {scarce}: requested 5, available 2",
            "item_id": scarce,
            "requested": 5,
            "available": 2,
        }
    ]
    assert status_of(order) == ("Draft", None)
    assert outbox() == []


def test_confirm_with_inventory_down_is_503_and_changes_nothing(services, draft, as_fm, settings, outbox):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    settings.ERP = {**settings.ERP, "INVENTORY_SERVICE_URL": closed_port_url()}

    # when
    response = post(as_fm, order, "confirm")

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert status_of(order) == ("Draft", None)
    assert outbox() == []


@pytest.mark.parametrize(
    ("role", "action"),
    [("inventory_manager", "confirm"), ("inventory_manager", "pay"), ("inventory_manager", "cancel")],
)
def test_finance_only_transitions_refuse_inventory_managers(services, draft, role, action, outbox):
    # given
    order = draft([(services.add_item(stock=5), 1)])

    # when
    response = post(auth_client(role), order, action)

    # then
    assert response.status_code == 403
    assert status_of(order) == ("Draft", None)
    assert outbox() == []


def test_confirm_twice_is_409_naming_the_status(services, draft, as_fm, outbox):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    assert post(as_fm, order, "confirm").status_code == 200

    # when
    response = post(as_fm, order, "confirm")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "status", "message": "order is Confirmed, expected Draft"}]
    assert [event for event, _ in outbox()] == ["sales.order.confirmed"]


def test_confirm_retried_with_the_same_key_replays_without_a_second_event(services, draft, as_fm, outbox):
    # given
    order = draft([(services.add_item(stock=5), 1)])

    # when
    first = post(as_fm, order, "confirm", HTTP_IDEMPOTENCY_KEY="confirm-1")
    again = post(as_fm, order, "confirm", HTTP_IDEMPOTENCY_KEY="confirm-1")

    # then
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert [event for event, _ in outbox()] == ["sales.order.confirmed"]


def test_pay_a_confirmed_order(services, draft, as_fm, outbox):
    # given
    order = draft([(services.add_item(unit_price="0.10", stock=5), 3)])
    post(as_fm, order, "confirm")

    # when
    response = post(as_fm, order, "pay")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "Paid"
    assert response.json()["data"]["paid_at"] is not None
    assert outbox()[-1] == ("sales.order.paid", {"order_id": order["id"], "total_amount": Decimal("0.30")})


def test_pay_a_draft_is_409(services, draft, as_fm, outbox):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    response = post(as_fm, order, "pay")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "status", "message": "order is Draft, expected Confirmed"}]
    assert status_of(order) == ("Draft", None)
    assert outbox() == []


def _confirmed_with_stock_status(services, draft, as_fm, deliver, stock_status: str, quantity: int = 2):
    """A confirmed order, and inventory's answer ``stock_status`` delivered (none for ``pending``)."""
    item = services.add_item(stock=5)
    order = draft([(item, quantity)])
    post(as_fm, order, "confirm")
    if stock_status == "issued":
        lines = [{"item_id": item, "quantity": quantity, "quantity_after": 5 - quantity}]
        assert deliver(registry.STOCK_ISSUED, {"order_id": order["id"], "items": lines})
    elif stock_status == "short":
        lines = [{"item_id": item, "requested": quantity, "available": 0}]
        assert deliver(registry.STOCK_SHORTAGE, {"order_id": order["id"], "items": lines})
    assert status_of(order) == ("Confirmed", stock_status)
    return order


@pytest.mark.parametrize("stock_status", ["pending", "issued"])
def test_pay_while_stock_is_pending_or_issued(services, draft, as_fm, outbox, deliver, stock_status):
    # given: the original's clients confirm and pay at once, before inventory answers
    order = _confirmed_with_stock_status(services, draft, as_fm, deliver, stock_status)

    # when
    response = post(as_fm, order, "pay")

    # then
    assert response.status_code == 200, response.json()
    assert status_of(order) == ("Paid", stock_status)
    assert [event for event, _ in outbox()] == ["sales.order.confirmed", "sales.order.paid"]


def test_pay_a_short_order_is_409_naming_the_stock_status_and_emits_nothing(services, draft, as_fm, outbox, deliver):
    # given: inventory could not issue the order
    order = _confirmed_with_stock_status(services, draft, as_fm, deliver, "short")
    before = SalesOrder.objects.values().get(pk=order["id"])

    # when
    response = post(as_fm, order, "pay", HTTP_IDEMPOTENCY_KEY="pay-short")
    again = post(as_fm, order, "pay", HTTP_IDEMPOTENCY_KEY="pay-short")

    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "conflict"
    assert error["details"] == [
        {"field": "stock_status", "message": "stock_status is short: inventory had too little stock to issue the order"}
    ]
    assert again.status_code == 409
    assert SalesOrder.objects.values().get(pk=order["id"]) == before
    assert [event for event, _ in outbox()] == ["sales.order.confirmed"]


def test_a_shortage_after_the_pay_still_lands_and_the_order_is_found_paid_and_short(
    services, draft, as_fm, outbox, deliver
):
    # given: confirmed and paid at once, before inventory answered (allowed: pending stays payable)
    order = _confirmed_with_stock_status(services, draft, as_fm, deliver, "pending")
    assert post(as_fm, order, "pay").status_code == 200

    # when inventory answers that it ran out in between
    lines = [{"item_id": order["items"][0]["item_id"], "requested": 2, "available": 0}]
    assert deliver(registry.STOCK_SHORTAGE, {"order_id": order["id"], "items": lines})

    # then: the order says so (it was paid, nothing will ship), and the list finds what to refund
    assert status_of(order) == ("Paid", "short")
    found = as_fm.get("/orders", {"status": "Paid", "stock_status": "short"}).json()["data"]
    assert [row["id"] for row in found] == [order["id"]]
    assert post(as_fm, order, "cancel").status_code == 409
    assert [event for event, _ in outbox()] == ["sales.order.confirmed", "sales.order.paid"]


def test_cancel_a_draft_emits_nothing(services, draft, as_fm, outbox):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    response = post(as_fm, order, "cancel")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "Cancelled"
    assert response.json()["data"]["cancelled_at"] is not None
    assert outbox() == []


def test_cancel_while_stock_is_pending_is_409(services, draft, as_fm, outbox):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    post(as_fm, order, "confirm")

    # when
    response = post(as_fm, order, "cancel")

    # then
    assert response.status_code == 409
    assert [d["field"] for d in response.json()["error"]["details"]] == ["stock_status"]
    assert status_of(order) == ("Confirmed", "pending")
    assert [event for event, _ in outbox()] == ["sales.order.confirmed"]


def test_cancel_an_issued_order_emits_cancelled_then_returned_settles_it(services, draft, as_fm, outbox, deliver):
    # given
    item = services.add_item(stock=5)
    order = draft([(item, 2)])
    post(as_fm, order, "confirm")
    assert deliver(
        registry.STOCK_ISSUED,
        {"order_id": order["id"], "items": [{"item_id": item, "quantity": 2, "quantity_after": 3}]},
    )
    assert status_of(order) == ("Confirmed", "issued")

    # when
    response = post(as_fm, order, "cancel")
    deliver(
        registry.STOCK_RETURNED,
        {"order_id": order["id"], "items": [{"item_id": item, "quantity": 2, "quantity_after": 5}]},
    )

    # then
    assert response.status_code == 200
    assert outbox()[-1] == ("sales.order.cancelled", {"order_id": order["id"]})
    assert status_of(order) == ("Cancelled", "returned")


def test_cancel_a_short_order_emits_nothing(services, draft, as_fm, outbox, deliver):
    # given
    item = services.add_item(stock=5)
    order = draft([(item, 2)])
    post(as_fm, order, "confirm")
    deliver(
        registry.STOCK_SHORTAGE, {"order_id": order["id"], "items": [{"item_id": item, "requested": 2, "available": 0}]}
    )

    # when
    response = post(as_fm, order, "cancel")

    # then
    assert response.status_code == 200
    assert status_of(order) == ("Cancelled", "short")
    assert [event for event, _ in outbox()] == ["sales.order.confirmed"]


def test_cancel_a_paid_order_is_409(services, draft, as_fm):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    post(as_fm, order, "confirm")
    post(as_fm, order, "pay")

    # when
    response = post(as_fm, order, "cancel")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "status", "message": "order is Paid, expected Confirmed or Draft"}
    ]


def test_stock_answers_apply_once_and_only_from_pending(services, draft, as_fm, deliver):
    # given
    item = services.add_item(stock=5)
    order = draft([(item, 1)])
    post(as_fm, order, "confirm")
    issued = {"order_id": order["id"], "items": [{"item_id": item, "quantity": 1, "quantity_after": 4}]}
    revision = SalesOrder.objects.get(pk=order["id"]).revision

    # when
    deliver(registry.STOCK_ISSUED, issued, event_id="5b0e7c1a-7a0c-4f0e-9c55-1f1f0f0f0f01")
    duplicate = deliver(registry.STOCK_ISSUED, issued, event_id="5b0e7c1a-7a0c-4f0e-9c55-1f1f0f0f0f01")
    late_shortage = deliver(registry.STOCK_SHORTAGE, {"order_id": order["id"], "items": []})

    # then
    assert duplicate is False
    assert late_shortage is True  # recorded, but changes nothing
    row = SalesOrder.objects.get(pk=order["id"])
    assert (row.stock_status, row.revision) == ("issued", revision + 1)


def test_a_stock_answer_for_an_unknown_order_changes_nothing(deliver):
    # when
    applied = deliver(registry.STOCK_ISSUED, {"order_id": "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01", "items": []})

    # then
    assert applied is True
    assert SalesOrder.objects.count() == 0


def test_confirm_after_the_customer_was_renamed_in_between(services, draft, as_fm, monkeypatch, deliver):
    # given: the customer's name arrives between the availability check and the lock
    order = draft([(services.add_item(stock=5), 1)])
    original = sales_services.stock_availability

    def check_then_rename(*, lines, **others):
        answer = original(lines=lines, **others)
        sales_services.sales_order_customer_rename(customer_id=order["customer_id"], name="Renamed", version=2)
        return answer

    monkeypatch.setattr(sales_services, "stock_availability", check_then_rename)

    # when
    response = post(as_fm, order, "confirm")

    # then
    assert response.status_code == 200, response.json()
    assert (response.json()["data"]["status"], response.json()["data"]["customer_name"]) == ("Confirmed", "Renamed")


@pytest.mark.parametrize("lines", [1, 2, 5])
def test_create_and_confirm_query_counts_are_pinned(services, customer_id, as_fm, lines):
    # given: the same counts whatever the number of lines
    item = services.add_item(stock=5)
    body = {"customer_id": customer_id, "items": [{"item_id": item, "quantity": 1}] * lines}

    # when
    with CaptureQueriesContext(connection) as creating:
        order = as_fm.post("/orders", body, format="json").json()["data"]
    with CaptureQueriesContext(connection) as confirming:
        assert post(as_fm, order, "confirm").status_code == 200

    # then: create = the customer's version heard of (before contact_svc is asked, and
    # again in the transaction, with its name), order, lines (the answer shows the lines written);
    # confirm = order, lines and the quantities of orders still pending at inventory before
    # asking it, then under the lock: order, lines, update, status history, outbox (the path's
    # id goes to the service as it is: no get_object() reading the order once more before)
    assert statements(creating) == ["SELECT", "SELECT", "INSERT", "INSERT"]
    # (the last SELECT is pg_notify, which wakes the relay at commit)
    assert statements(confirming) == [
        *["SELECT", "SELECT", "SELECT", "SELECT", "SELECT"],
        *["UPDATE", "INSERT", "INSERT", "SELECT"],
    ]


def _issued(services, draft, as_fm, deliver, lines: int):
    """A confirmed order of ``lines`` lines (an item each), its stock issued: ``(order, items)``."""
    items = [services.add_item(stock=5) for _ in range(lines)]
    order = draft([(item, 2) for item in items])
    assert post(as_fm, order, "confirm").status_code == 200
    issued = [{"item_id": item, "quantity": 2, "quantity_after": 3} for item in items]
    assert deliver(registry.STOCK_ISSUED, {"order_id": order["id"], "items": issued})
    return order, items


@pytest.mark.parametrize("lines", [1, 5])
def test_pay_query_count_is_pinned(services, draft, as_fm, deliver, lines):
    # given: the same count whatever the number of lines
    order, _ = _issued(services, draft, as_fm, deliver, lines)

    # when
    with CaptureQueriesContext(connection) as paying:
        assert post(as_fm, order, "pay").status_code == 200

    # then: under the lock: order, its UPDATE, status history, outbox and its pg_notify; then the lines, for
    # the answer
    assert statements(paying) == ["SELECT", "UPDATE", "INSERT", "INSERT", "SELECT", "SELECT"]


@pytest.mark.parametrize("lines", [1, 5])
def test_cancel_query_counts_are_pinned(services, draft, as_fm, deliver, lines):
    # given: a draft, and an order whose stock was issued (its cancel tells inventory), of as many lines
    items = [services.add_item(stock=5) for _ in range(lines)]
    a_draft = draft([(item, 1) for item in items])
    issued, _ = _issued(services, draft, as_fm, deliver, lines)

    # when
    with CaptureQueriesContext(connection) as cancelling_the_draft:
        assert post(as_fm, a_draft, "cancel").status_code == 200
    with CaptureQueriesContext(connection) as cancelling_the_issued:
        assert post(as_fm, issued, "cancel").status_code == 200

    # then: under the lock: order, its UPDATE, status history (and for the issued order, the outbox and its
    # pg_notify); then the lines, for the answer
    assert statements(cancelling_the_draft) == ["SELECT", "UPDATE", "INSERT", "SELECT"]
    assert statements(cancelling_the_issued) == ["SELECT", "UPDATE", "INSERT", "INSERT", "SELECT", "SELECT"]


@pytest.mark.parametrize("lines", [1, 5])
def test_the_shortage_and_returned_answers_query_counts_are_pinned(services, draft, as_fm, deliver, lines):
    # given: a confirmed order, and a cancelled order whose stock was issued, of as many lines
    items = [services.add_item(stock=5) for _ in range(lines)]
    confirmed = draft([(item, 2) for item in items])
    assert post(as_fm, confirmed, "confirm").status_code == 200
    cancelled, issued_items = _issued(services, draft, as_fm, deliver, lines)
    assert post(as_fm, cancelled, "cancel").status_code == 200
    short = [{"item_id": item, "requested": 2, "available": 0} for item in items]
    returned = [{"item_id": item, "quantity": 2, "quantity_after": 5} for item in issued_items]

    # when
    with CaptureQueriesContext(connection) as shortage:
        assert deliver(registry.STOCK_SHORTAGE, {"order_id": confirmed["id"], "items": short})
    with CaptureQueriesContext(connection) as giving_back:
        assert deliver(registry.STOCK_RETURNED, {"order_id": cancelled["id"], "items": returned}, aggregate_version=2)

    # then: the inbox row, the order's conditional UPDATE, its lines read and written in one UPDATE
    assert SalesOrderLine.objects.filter(order_id=cancelled["id"], quantity_issued=2).count() == lines
    assert statements(shortage) == ["INSERT", "UPDATE", "SELECT", "UPDATE"]
    assert statements(giving_back) == ["INSERT", "UPDATE", "SELECT", "UPDATE"]


def test_an_issued_answer_fills_every_line_in_one_update(services, draft, as_fm, deliver):
    # given: two lines of one item and a line of another, confirmed
    first, second = services.add_item(stock=9), services.add_item(stock=9)
    order = draft([(first, 2), (second, 1), (first, 3)])
    post(as_fm, order, "confirm")
    issued = [
        {"item_id": first, "quantity": 5, "quantity_after": 4},
        {"item_id": second, "quantity": 1, "quantity_after": 8},
    ]

    # when
    with CaptureQueriesContext(connection) as applying:
        assert deliver(registry.STOCK_ISSUED, {"order_id": order["id"], "items": issued})

    # then: every line issued in full, nothing waiting
    lines = SalesOrder.objects.get(pk=order["id"]).lines.order_by("position")
    assert [(line.quantity_issued, line.quantity_backordered) for line in lines] == [(2, 0), (1, 0), (3, 0)]
    # the inbox row, the order's conditional UPDATE, the lines' UPDATE (no line read first)
    assert statements(applying) == ["INSERT", "UPDATE", "UPDATE"]


def test_an_issued_answer_delivered_again_leaves_the_same_figures(services, draft, as_fm, deliver):
    # given: an order issued in full (one UPDATE of its lines)
    item = services.add_item(stock=9)
    order = draft([(item, 2), (item, 3)])
    post(as_fm, order, "confirm")
    issued = {"order_id": order["id"], "items": [{"item_id": item, "quantity": 5, "quantity_after": 4}]}
    event_id = uuid.uuid4()
    assert deliver(registry.STOCK_ISSUED, issued, event_id=event_id)
    row = SalesOrder.objects.get(pk=order["id"])

    def figures():
        lines = SalesOrderLine.objects.filter(order_id=order["id"]).order_by("position")
        return [(line.quantity_issued, line.quantity_backordered) for line in lines]

    # when: the same message again (the inbox), and the same answer as a new message (the order's status)
    again = deliver(registry.STOCK_ISSUED, issued, event_id=event_id)
    anew = deliver(registry.STOCK_ISSUED, issued)

    # then: the inbox refused the first, the order's status the second (its conditional UPDATE)
    assert (again, anew) == (False, True)
    assert figures() == [(2, 0), (3, 0)]
    assert SalesOrder.objects.get(pk=order["id"]).revision == row.revision
