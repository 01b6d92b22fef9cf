"""The inventory services called directly (as handlers, the admin and the seed command do)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from common.exceptions import Conflict, InsufficientStock, NotFound, ValidationFailed
from inventory.lines import StockLine
from inventory.models import IssueOutcome, Item, MovementReason, SalesOrderIssue, Stock, StockMovement
from inventory.services import (
    MAX_QUANTITY,
    Move,
    UnknownItems,
    _movements_write,
    item_create,
    item_delete,
    item_update,
    stock_adjust,
    stock_issue_for_order,
    stock_movements_apply,
    stock_receive_for_order,
    stock_return_for_order,
)

from .conftest import ledger_total, on_hand

pytestmark = pytest.mark.django_db


# --- items ------------------------------------------------------------------------------


def test_item_create_normalises_the_sku_and_makes_zero_stock(outbox):
    # when
    item = item_create(sku="  lap-01x ", name="Laptop", unit_price=Decimal("10.00"))

    # then
    stored = Item.objects.get(pk=item.pk)
    assert stored.sku == "LAP-01X"
    assert Stock.objects.get(item_id=item.pk).quantity == 0
    assert item.quantity == 0
    assert not StockMovement.objects.exists()
    assert outbox() == []


@pytest.mark.parametrize("sku", ["lap-01", "LAP-01", " Lap-01  "])
def test_item_create_duplicate_sku_in_any_form_is_a_conflict(make_item, snapshot, sku):
    # given
    make_item(sku="LAP-01")
    before = snapshot()

    # when
    with pytest.raises(Conflict) as caught:
        item_create(sku=sku, name="Other", unit_price=Decimal("1.00"))

    # then
    assert caught.value.details == [{"field": "sku", "message": "An item with this SKU already exists."}]
    assert snapshot() == before


def test_item_create_refuses_a_negative_price_without_the_serializer(snapshot):
    # given
    before = snapshot()

    # when
    with pytest.raises(ValidationFailed) as caught:
        item_create(sku="NEG-1", name="Negative", unit_price=Decimal("-0.01"))

    # then
    assert [detail["field"] for detail in caught.value.details] == ["unit_price"]
    assert snapshot() == before


def test_database_refuses_a_sku_that_is_not_normalised(make_item):
    # given
    item = make_item(sku="OK-1")

    # when / then: the check constraint holds every writer, even one that skips the services
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(sku=" lower ")


def test_database_refuses_negative_stock(make_item):
    # given
    item = make_item(stock=1)

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(item_id=item.pk).update(quantity=-1)


def test_database_refuses_a_second_movement_of_one_order(make_item):
    # given
    item = make_item()
    order = uuid.uuid4()
    stock_receive_for_order(order_id=order, lines=[StockLine(item.pk, 3)], actor="purchase")

    # when / then: the backstop behind the services' own check
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(
            item=item, change=3, quantity_after=6, reason=MovementReason.PURCHASE_RECEIPT, reference=order, actor="x"
        )


def test_item_update_normalises_the_sku_and_keeps_stock(make_item):
    # given
    item = make_item(stock=4, sku="OLD-1")

    # when
    updated = item_update(item=item, data={"sku": " new-1 ", "reorder_level": 2})

    # then
    item.refresh_from_db()
    assert (item.sku, item.reorder_level, updated.quantity) == ("NEW-1", 2, 4)
    assert on_hand(item) == 4


def test_item_update_that_changes_nothing_writes_nothing(make_item):
    # given
    item = make_item(sku="SAME-1", name="Same")
    before = Item.objects.get(pk=item.pk).updated_at

    # when
    item_update(item=item, data={"sku": "same-1", "name": "Same"})

    # then
    assert Item.objects.get(pk=item.pk).updated_at == before


def test_item_update_refuses_quantity(make_item):
    # given
    item = make_item(stock=1)

    # when / then: stock has one writer, and it is not this
    with pytest.raises(ValueError):
        item_update(item=item, data={"quantity": 100})
    assert on_hand(item) == 1


def test_one_write_refuses_an_item_moving_both_ways(make_item):
    # given: nothing on hand
    item = make_item()

    # when / then: taking 3 then adding 5 nets +2, but its first step would be below zero
    with transaction.atomic(), pytest.raises(ValueError):
        _movements_write(
            [Move(item_id=item.pk, change=-3, reference=None), Move(item_id=item.pk, change=5, reference=None)],
            reason=MovementReason.ADJUSTMENT,
            actor="test",
        )
    assert (on_hand(item), StockMovement.objects.filter(item_id=item.pk).count()) == (0, 0)


def test_item_delete_removes_an_item_without_stock_or_ledger(make_item):
    # given
    item = make_item()

    # when
    item_delete(item=item)

    # then
    assert not Item.objects.exists()
    assert not Stock.objects.exists()


def test_item_delete_with_stock_on_hand_is_a_conflict(make_item, snapshot):
    # given
    item = make_item(stock=5)
    before = snapshot()

    # when
    with pytest.raises(Conflict) as caught:
        item_delete(item=item)

    # then
    assert caught.value.details == [{"field": "quantity", "message": "The item has 5 units on hand."}]
    assert snapshot() == before


def test_item_delete_keeps_an_item_that_has_a_ledger(make_item, snapshot):
    # given: received and sold out, so nothing on hand but a history
    item = make_item(stock=2)
    stock_adjust(changes={item.pk: -2}, actor="test")
    before = snapshot()

    # when
    with pytest.raises(Conflict) as caught:
        item_delete(item=item)

    # then
    assert caught.value.details[0]["field"] == "movements"
    assert snapshot() == before


def test_item_delete_of_an_item_deleted_meanwhile_is_not_found(make_item):
    # given
    item = make_item()
    Item.objects.filter(pk=item.pk).delete()

    # when / then
    with pytest.raises(NotFound):
        item_delete(item=item)


# --- the one writer -----------------------------------------------------------------------


def test_stock_adjust_writes_the_movement_and_the_quantity_together(make_item, outbox):
    # given
    item = make_item(stock=3)

    # when
    [movement] = stock_adjust(changes={item.pk: -2}, actor="im@example.com", note="stocktake")

    # then
    stored = StockMovement.objects.get(pk=movement.pk)
    assert (stored.change, stored.quantity_after, stored.reason, stored.reference, stored.note, stored.actor) == (
        -2,
        1,
        "adjustment",
        None,
        "stocktake",
        "im@example.com",
    )
    assert on_hand(item) == 1 == ledger_total(item)
    assert outbox() == []


def test_stock_adjust_below_zero_changes_nothing(make_item, snapshot):
    # given
    item = make_item(stock=3)
    before = snapshot()

    # when
    with pytest.raises(InsufficientStock) as caught:
        stock_adjust(changes={item.pk: -4}, actor="test")

    # then
    assert caught.value.lines == [{"item_id": item.pk, "requested": 4, "available": 3, "field": "quantity"}]
    assert snapshot() == before


def test_stock_adjust_of_several_items_is_all_or_none(make_item, snapshot):
    # given
    plenty, scarce = make_item(stock=10), make_item(stock=1)
    before = snapshot()

    # when
    with pytest.raises(InsufficientStock) as caught:
        stock_adjust(changes={plenty.pk: -5, scarce.pk: -2}, actor="test")

    # then
    assert [line["item_id"] for line in caught.value.lines] == [scarce.pk]
    assert snapshot() == before


def test_stock_adjust_past_the_largest_quantity_is_a_conflict(make_item, snapshot):
    # given
    item = make_item(stock=MAX_QUANTITY)
    before = snapshot()

    # when
    with pytest.raises(Conflict):
        stock_adjust(changes={item.pk: 1}, actor="test")

    # then
    assert snapshot() == before


def test_stock_adjust_of_an_unknown_item_is_not_found(snapshot):
    # given
    before = snapshot()

    # when / then
    with pytest.raises(NotFound):
        stock_adjust(changes={uuid.uuid4(): 1}, actor="test")
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_stock_movements_apply_needs_a_transaction(make_item):
    # given
    item = make_item()

    # when / then: the lock would be released at once without one
    with pytest.raises(RuntimeError):
        stock_movements_apply(changes={item.pk: 1}, reason=MovementReason.ADJUSTMENT, actor="test")


@pytest.mark.parametrize(
    ("start", "change", "low"),
    [(6, -1, True), (6, -2, True), (5, -1, False), (6, 1, False), (4, 3, False), (6, -6, True)],
    ids=["to-level", "below-level", "already-low", "up", "up-past-level", "to-zero"],
)
def test_stock_low_is_emitted_when_crossing_the_reorder_level_downwards(make_item, outbox, start, change, low):
    # given: reorder level 5, max level 20
    item = make_item(stock=start, reorder_level=5, max_level=20, sku="LOW-1")
    baseline = len(outbox())

    # when
    stock_adjust(changes={item.pk: change}, actor="test")

    # then
    expected = [
        (
            "inventory.stock.low",
            {
                "item_id": str(item.pk),
                "sku": "LOW-1",
                "quantity": start + change,
                "backordered": 0,
                "reorder_level": 5,
                "max_level": 20,
            },
        )
    ]
    assert outbox()[baseline:] == (expected if low else [])


def test_an_archived_item_falling_low_is_not_announced_for_reordering(make_item, outbox):
    # given: an archived item at 6, reorder level 5, max level 20 (no new order may name it)
    item = make_item(stock=6, reorder_level=5, max_level=20, active=False)
    baseline = len(outbox())

    # when: it falls to 4
    stock_adjust(changes={item.pk: -2}, actor="test")

    # then: no inventory.stock.low, so purchase_svc raises no replenishment line for it
    assert [event_type for event_type, _ in outbox()[baseline:]] == []


# --- orders ----------------------------------------------------------------------------------


def test_issue_moves_every_line_and_publishes_issued(make_item, outbox):
    # given: an item on two lines of the order is issued once, summed
    first, second = make_item(stock=5), make_item(stock=2)
    order = uuid.uuid4()
    lines = [StockLine(first.pk, 1), StockLine(second.pk, 2), StockLine(first.pk, 2)]

    # when
    outcome = stock_issue_for_order(order_id=order, lines=lines, actor="sales")

    # then
    assert outcome == IssueOutcome.ISSUED
    assert (on_hand(first), on_hand(second)) == (2, 0)
    assert sorted(
        StockMovement.objects.filter(reference=order).values_list("item_id", "change", "quantity_after", "reason")
    ) == sorted([(first.pk, -3, 2, "sales_issue"), (second.pk, -2, 0, "sales_issue")])
    issued = [data for event_type, data in outbox() if event_type == "inventory.stock.issued"]
    assert issued == [
        {
            "order_id": str(order),
            "items": sorted(
                [
                    {"item_id": str(first.pk), "quantity": 3, "quantity_after": 2},
                    {"item_id": str(second.pk), "quantity": 2, "quantity_after": 0},
                ],
                key=lambda line: line["item_id"],
            ),
        }
    ]


def test_issue_with_a_short_line_issues_nothing_and_names_the_short_lines(make_item, outbox):
    # given
    enough, scarce = make_item(stock=5), make_item(stock=1)
    unknown = uuid.uuid4()
    order = uuid.uuid4()
    movements_before = StockMovement.objects.count()

    # when
    outcome = stock_issue_for_order(
        order_id=order,
        lines=[StockLine(enough.pk, 2), StockLine(scarce.pk, 3), StockLine(unknown, 1)],
        actor="sales",
    )

    # then
    assert outcome == IssueOutcome.SHORT
    assert (on_hand(enough), on_hand(scarce)) == (5, 1)
    assert StockMovement.objects.count() == movements_before
    assert outbox()[-1] == (
        "inventory.stock.shortage",
        {
            "order_id": str(order),
            "items": [
                {"item_id": str(scarce.pk), "requested": 3, "available": 1},
                {"item_id": str(unknown), "requested": 1, "available": 0},
            ],
        },
    )


def test_issue_of_an_order_decided_before_changes_nothing(make_item, snapshot):
    # given: the order was short; stock arrived since
    item = make_item(stock=1)
    order = uuid.uuid4()
    stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, 2)], actor="sales")
    stock_adjust(changes={item.pk: 5}, actor="test")
    before = snapshot()

    # when: the same order comes again (another event id)
    outcome = stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, 2)], actor="sales")

    # then: still short, as sales was told
    assert outcome is None
    assert snapshot() == before
    assert SalesOrderIssue.objects.get(order_id=order).outcome == "short"


def test_receive_adds_every_line_once(make_item, outbox):
    # given
    item = make_item(stock=1)
    order = uuid.uuid4()

    # when
    first = stock_receive_for_order(order_id=order, lines=[StockLine(item.pk, 4)], actor="purchase")
    again = stock_receive_for_order(order_id=order, lines=[StockLine(item.pk, 4)], actor="purchase")

    # then
    assert [(m.change, m.quantity_after, m.reason) for m in first] == [(4, 5, "purchase_receipt")]
    assert again == []
    assert on_hand(item) == 5 == ledger_total(item)


def test_receive_naming_an_unknown_item_writes_nothing(make_item, snapshot):
    # given
    item = make_item()
    before = snapshot()

    # when
    with pytest.raises(UnknownItems):
        stock_receive_for_order(
            order_id=uuid.uuid4(), lines=[StockLine(item.pk, 1), StockLine(uuid.uuid4(), 1)], actor="purchase"
        )

    # then
    assert snapshot() == before


def test_return_gives_back_exactly_what_was_issued_once(make_item, outbox):
    # given: issued 3 and 1; stock moved on since
    first, second = make_item(stock=5), make_item(stock=1)
    order = uuid.uuid4()
    stock_issue_for_order(order_id=order, lines=[StockLine(first.pk, 3), StockLine(second.pk, 1)], actor="sales")
    stock_adjust(changes={first.pk: 10}, actor="test")

    # when
    returned = stock_return_for_order(order_id=order, actor="sales")
    again = stock_return_for_order(order_id=order, actor="sales")

    # then
    assert sorted((m.item_id, m.change, m.reason) for m in returned) == sorted(
        [(first.pk, 3, "sales_cancellation"), (second.pk, 1, "sales_cancellation")]
    )
    assert again == []
    assert (on_hand(first), on_hand(second)) == (15, 1)
    assert [event_type for event_type, _ in outbox()].count("inventory.stock.returned") == 1
    assert outbox()[-1][1]["order_id"] == str(order)


def test_return_of_an_order_never_issued_does_nothing(make_item, snapshot):
    # given: a short order
    item = make_item(stock=1)
    order = uuid.uuid4()
    stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, 2)], actor="sales")
    before = snapshot()

    # when
    returned = stock_return_for_order(order_id=order, actor="sales")

    # then
    assert returned == []
    assert snapshot() == before
