"""Receipts of a purchase order: parts, over-receipt refused, unknown items, closing short, paying what arrived."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.events.models import OutboxEvent
from erp_testkit.orders import status_history
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt, PurchaseReceiptLine

# Also run on SQLite (scripts/test.sh's sqlite lane), as the embedded local run keeps its data.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

UNKNOWN = "0b7f9a56-1d2e-4c3b-8a9f-5e6d7c8b9a01"


def receive(client, order, *lines, **headers):
    body = {"items": [{"item_id": item, "quantity": quantity} for item, quantity in lines]}
    return client.post(f"/orders/{order['id']}/receipts", body, format="json", **headers)


def everything(order_id) -> tuple:
    """What a refused request must leave as it was: order, lines, receipts, history and outbox."""
    order = PurchaseOrder.objects.get(pk=order_id)
    return (
        (order.status, order.revision, order.updated_at, order.received_amount, order.closed_short),
        list(PurchaseOrderLine.objects.filter(order_id=order_id).values_list("id", "quantity_received")),
        PurchaseReceipt.objects.count(),
        PurchaseReceiptLine.objects.count(),
        list(order.status_changes.values_list("to_status")),
        OutboxEvent.objects.count(),
    )


@pytest.fixture
def bolt(services):
    return services.add_item(sku="BOLT", unit_price="2.50")


@pytest.fixture
def nut(services):
    return services.add_item(sku="NUT", unit_price="0.10")


def test_a_first_part_makes_the_order_partially_received(draft, bolt, nut, as_im, outbox):
    # given: 100 bolts and 10 nuts ordered
    order = draft([(bolt, 100), (nut, 10)])

    # when: 60 bolts arrive
    response = receive(as_im, order, (bolt, 60))

    # then
    assert response.status_code == 201, response.json()
    receipt = response.json()["data"]
    stored = PurchaseReceipt.objects.get()
    assert receipt == {
        "id": str(stored.id),
        "order_id": order["id"],
        "items": [{"item_id": bolt, "quantity": 60}],
        "created_at": receipt["created_at"],
        "stock_refused_at": None,
    }
    data = as_im.get(f"/orders/{order['id']}").json()["data"]
    assert (data["status"], data["received_amount"], data["closed_short"], data["received_at"]) == (
        "PartiallyReceived",
        150.00,
        False,
        None,
    )
    assert [line["quantity_received"] for line in data["items"]] == [60, 0]
    assert outbox() == [
        (
            "purchase.order.received",
            {
                "order_id": order["id"],
                "vendor_id": order["vendor_id"],
                "receipt_id": str(stored.id),
                "status": "PartiallyReceived",
                "amount": Decimal("150.00"),
                "items": [
                    {"item_id": bolt, "quantity": 60, "unit_price": Decimal("2.50"), "subtotal": Decimal("150.00")}
                ],
            },
        )
    ]
    assert status_history(PurchaseOrder, order["id"]) == [
        ("Draft", "PartiallyReceived", "inventory_manager@example.com")
    ]


def test_the_last_part_makes_it_received_and_each_receipt_is_listed_oldest_first(draft, bolt, nut, as_fm, outbox):
    # given
    order = draft([(bolt, 100), (nut, 10)])
    first = receive(as_fm, order, (bolt, 60)).json()["data"]
    second = receive(as_fm, order, (nut, 4), (bolt, 10)).json()["data"]

    # when: the rest
    third = receive(as_fm, order, (bolt, 30), (nut, 6))
    listed = as_fm.get(f"/orders/{order['id']}/receipts")

    # then
    assert third.status_code == 201
    row = PurchaseOrder.objects.get(pk=order["id"])
    assert (row.status, row.received_amount, row.closed_short) == ("Received", Decimal("251.00"), False)
    assert row.received_at is not None
    assert [receipt["id"] for receipt in listed.json()["data"]] == [
        first["id"],
        second["id"],
        third.json()["data"]["id"],
    ]
    assert listed.json()["data"][1]["items"] == [{"item_id": bolt, "quantity": 10}, {"item_id": nut, "quantity": 4}]
    assert [data["status"] for _, data in outbox()] == ["PartiallyReceived", "PartiallyReceived", "Received"]
    # one status change per change of status, not per receipt
    assert [to for _, to, _ in status_history(PurchaseOrder, order["id"])] == ["PartiallyReceived", "Received"]


def test_more_than_is_open_is_409_with_the_figures_and_changes_nothing(draft, bolt, nut, as_im):
    # given: 60 of 100 received
    order = draft([(bolt, 100), (nut, 10)])
    receive(as_im, order, (bolt, 60))
    before = everything(order["id"])

    # when: 41 more bolts (40 open), beside a nut line that would fit
    response = receive(as_im, order, (nut, 1), (bolt, 41))

    # then
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "conflict"
    assert response.json()["error"]["details"] == [
        {
            "field": "items.1.quantity",
            "message": f"item {bolt}: requested 41, open 40 (ordered 100, received 60)",
            "item_id": bolt,
            "ordered": 100,
            "received": 60,
            "open": 40,
            "requested": 41,
        }
    ]
    assert everything(order["id"]) == before


def test_the_same_item_twice_in_one_receipt_counts_both_entries(draft, bolt, as_im):
    # given
    order = draft([(bolt, 10)])
    before = everything(order["id"])

    # when: 6 + 6 of 10
    response = receive(as_im, order, (bolt, 6), (bolt, 6))

    # then
    assert response.status_code == 409
    assert [(d["field"], d["open"], d["requested"]) for d in response.json()["error"]["details"]] == [
        ("items.1.quantity", 4, 6)
    ]
    assert everything(order["id"]) == before


def test_an_item_on_two_lines_fills_them_in_their_order(draft, bolt, as_im):
    # given: bolts on two lines (3 and 7)
    order = draft([(bolt, 3), (bolt, 7)])

    # when
    response = receive(as_im, order, (bolt, 5))

    # then
    assert response.status_code == 201
    assert list(PurchaseOrderLine.objects.order_by("position").values_list("quantity_received", flat=True)) == [3, 2]
    assert response.json()["data"]["items"] == [{"item_id": bolt, "quantity": 3}, {"item_id": bolt, "quantity": 2}]


def test_an_item_not_on_the_order_is_400_naming_it_and_changes_nothing(draft, bolt, nut, as_im):
    # given
    order = draft([(bolt, 10)])
    before = everything(order["id"])

    # when
    response = receive(as_im, order, (bolt, 1), (nut, 1), (UNKNOWN, 2))

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "items.1.item_id", "message": "The item is not on this order."},
        {"field": "items.2.item_id", "message": "The item is not on this order."},
    ]
    assert everything(order["id"]) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"items": []}, "items"), ({"items": [{"item_id": UNKNOWN, "quantity": 0}]}, "items.0.quantity"), ({}, "items")],
    ids=["no-lines", "zero", "missing"],
)
def test_a_malformed_receipt_is_400(draft, bolt, as_im, body, field):
    # given
    order = draft([(bolt, 10)])
    before = everything(order["id"])

    # when
    response = as_im.post(f"/orders/{order['id']}/receipts", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field
    assert everything(order["id"]) == before


@pytest.mark.parametrize("status", ["Received", "Cancelled"])
def test_no_receipt_once_received_or_cancelled(draft, bolt, as_fm, status):
    # given
    order = draft([(bolt, 10)])
    as_fm.post(f"/orders/{order['id']}/{'receive' if status == 'Received' else 'cancel'}")
    before = everything(order["id"])

    # when
    response = receive(as_fm, order, (bolt, 1))

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "status", "message": f"order is {status}, expected Draft or PartiallyReceived"}
    ]
    assert everything(order["id"]) == before


def test_receive_after_a_part_receives_only_what_is_open(draft, bolt, nut, as_im, outbox):
    # given
    order = draft([(bolt, 100), (nut, 10)])
    receive(as_im, order, (bolt, 60))

    # when: the original's receive
    response = as_im.post(f"/orders/{order['id']}/receive")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "Received"
    assert [line["quantity_received"] for line in response.json()["data"]["items"]] == [100, 10]
    assert [line["quantity"] for line in outbox()[-1][1]["items"]] == [40, 10]
    assert PurchaseReceipt.objects.count() == 2


def test_close_short_stops_expecting_the_rest_and_pay_carries_what_arrived(draft, bolt, nut, as_im, as_fm, outbox):
    # given: 60 of 100 bolts, no nuts
    order = draft([(bolt, 100), (nut, 10)])
    receive(as_im, order, (bolt, 60))

    # when
    closed = as_im.post(f"/orders/{order['id']}/close")
    paid = as_fm.post(f"/orders/{order['id']}/pay")

    # then
    assert closed.status_code == 200
    data = closed.json()["data"]
    assert (data["status"], data["closed_short"], data["total_amount"], data["received_amount"]) == (
        "Received",
        True,
        251.00,
        150.00,
    )
    assert paid.status_code == 200 and paid.json()["data"]["status"] == "Paid"
    assert outbox()[-1] == (
        "purchase.order.paid",
        {"order_id": order["id"], "total_amount": Decimal("251.00"), "amount_paid": Decimal("150.00")},
    )
    assert [event for event, _ in outbox()] == ["purchase.order.received", "purchase.order.paid"]


@pytest.mark.parametrize("status", ["Draft", "Received", "Cancelled"])
def test_close_from_anything_but_partially_received_is_409_and_changes_nothing(draft, bolt, as_fm, status):
    # given
    order = draft([(bolt, 10)])
    if status != "Draft":
        as_fm.post(f"/orders/{order['id']}/{'receive' if status == 'Received' else 'cancel'}")
    before = everything(order["id"])

    # when
    response = as_fm.post(f"/orders/{order['id']}/close")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "status", "message": f"order is {status}, expected PartiallyReceived"}
    ]
    assert everything(order["id"]) == before


def test_cancel_stays_draft_only(draft, bolt, as_fm):
    # given
    order = draft([(bolt, 10)])
    receive(as_fm, order, (bolt, 1))
    before = everything(order["id"])

    # when
    response = as_fm.post(f"/orders/{order['id']}/cancel")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "status", "message": "order is PartiallyReceived, expected Draft"}
    ]
    assert everything(order["id"]) == before


def test_pay_stays_received_only(draft, bolt, as_fm):
    # given
    order = draft([(bolt, 10)])
    receive(as_fm, order, (bolt, 1))
    before = everything(order["id"])

    # when
    response = as_fm.post(f"/orders/{order['id']}/pay")

    # then
    assert response.status_code == 409
    assert everything(order["id"]) == before


def test_lines_cannot_be_replaced_after_a_receipt(draft, bolt, as_im):
    # given
    order = draft([(bolt, 10)])
    receive(as_im, order, (bolt, 1))

    # when
    response = as_im.put(f"/orders/{order['id']}", {"items": [{"item_id": bolt, "quantity": 1}]}, format="json")

    # then
    assert response.status_code == 409
    assert list(PurchaseOrderLine.objects.values_list("quantity", "quantity_received")) == [(10, 1)]


def test_an_idempotency_key_records_a_receipt_once(draft, bolt, as_im):
    # given
    order = draft([(bolt, 10)])

    # when: the same request twice under one key
    first = receive(as_im, order, (bolt, 3), HTTP_IDEMPOTENCY_KEY="receipt-1")
    again = receive(as_im, order, (bolt, 3), HTTP_IDEMPOTENCY_KEY="receipt-1")

    # then
    assert first.status_code == again.status_code == 201
    assert again.json()["data"] == first.json()["data"]
    assert PurchaseReceipt.objects.count() == 1
    assert PurchaseOrderLine.objects.get().quantity_received == 3
    assert OutboxEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("client", "path", "method", "expected"),
    [
        ("as_im", "receipts", "post", 201),
        ("as_fm", "receipts", "post", 201),
        ("as_service", "receipts", "post", 403),
        ("as_im", "receipts", "get", 200),
        ("as_fm", "receipts", "get", 200),
        ("as_service", "receipts", "get", 403),
        ("as_service", "close", "post", 403),
    ],
)
def test_roles(request, draft, bolt, client, path, method, expected):
    # given
    order = draft([(bolt, 10)])
    caller = request.getfixturevalue(client)

    # when
    if method == "post" and path == "receipts":
        response = receive(caller, order, (bolt, 1))
    else:
        response = getattr(caller, method)(f"/orders/{order['id']}/{path}")

    # then
    assert response.status_code == expected


def test_receipts_of_an_unknown_order_are_404(services, as_im):
    # when
    listed = as_im.get(f"/orders/{UNKNOWN}/receipts")
    posted = as_im.post(f"/orders/{UNKNOWN}/receipts", {"items": [{"item_id": UNKNOWN, "quantity": 1}]}, format="json")

    # then
    assert listed.status_code == posted.status_code == 404


def test_a_malformed_receipt_for_an_unknown_order_is_404(services, as_im):
    # when: neither the order nor the body is any good
    response = as_im.post(f"/orders/{UNKNOWN}/receipts", {"items": []}, format="json")

    # then: the order is named first, as for every other request about it
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


def test_the_receipts_list_query_count_is_pinned(draft, bolt, nut, as_im, django_assert_num_queries):
    # given
    order = draft([(bolt, 10), (nut, 10)])
    for _ in range(3):
        receive(as_im, order, (bolt, 1), (nut, 1))

    # when: the order, the receipts, their lines
    with django_assert_num_queries(3):
        response = as_im.get(f"/orders/{order['id']}/receipts")

    # then
    assert [len(receipt["items"]) for receipt in response.json()["data"]] == [2, 2, 2]
