"""Purchase receipts into stock: once per receipt and item, the previous version as one receipt, the check command.

Also run on SQLite (marker ``sqlite``: scripts/test.sh's ``inventory_svc:sqlite`` lane); the race of
five writers on one receipt is in test_concurrency, on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from inventory.lines import StockLine
from inventory.models import MovementReason, StockMovement
from inventory.services import WholeAndPartsReceived, stock_receive_for_order, stock_receive_for_receipt

from .conftest import ledger_total, on_hand

pytestmark = pytest.mark.sqlite


def receipts_file(tmp_path, *rows: tuple[uuid.UUID, uuid.UUID, object, int]):
    """What purchase_svc's ``check_purchase_receipts --export`` writes, for these (order, receipt, item, quantity)."""
    path = tmp_path / "receipts.json"
    body = [
        {"order_id": str(order), "receipt_id": str(receipt), "item_id": str(item.pk), "quantity": quantity}
        for order, receipt, item, quantity in rows
    ]
    path.write_text(json.dumps({"receipts": body}))
    return path


@pytest.mark.django_db
def test_each_receipt_of_an_order_adds_its_own_lines_once(make_item):
    # given: two receipts of one order
    bolt, nut = make_item(stock=1), make_item()
    order, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stock_receive_for_receipt(order_id=order, receipt_id=first, lines=[StockLine(bolt.pk, 60)], actor="purchase")

    # when: the second, and both again
    stock_receive_for_receipt(
        order_id=order, receipt_id=second, lines=[StockLine(bolt.pk, 30), StockLine(nut.pk, 4)], actor="purchase"
    )
    again = [
        stock_receive_for_receipt(order_id=order, receipt_id=first, lines=[StockLine(bolt.pk, 60)], actor="purchase"),
        stock_receive_for_receipt(
            order_id=order, receipt_id=second, lines=[StockLine(bolt.pk, 30), StockLine(nut.pk, 4)], actor="purchase"
        ),
    ]

    # then
    assert again == [[], []]
    assert (on_hand(bolt), on_hand(nut)) == (91, 4) == (ledger_total(bolt), ledger_total(nut))
    movements = StockMovement.objects.filter(reason=MovementReason.PURCHASE_RECEIPT)
    assert sorted(movements.values_list("reference", "receipt_id", "item_id", "change"), key=str) == sorted(
        [(order, first, bolt.pk, 60), (order, second, bolt.pk, 30), (order, second, nut.pk, 4)], key=str
    )


@pytest.mark.django_db
def test_the_previous_version_is_one_receipt_of_the_whole_order_named_by_the_order(make_item):
    # given
    item = make_item()
    order = uuid.uuid4()

    # when: the whole order, twice
    stock_receive_for_order(order_id=order, lines=[StockLine(item.pk, 5)], actor="purchase")
    stock_receive_for_order(order_id=order, lines=[StockLine(item.pk, 5)], actor="purchase")

    # then
    assert on_hand(item) == 5
    assert list(StockMovement.objects.filter(reference=order).values_list("receipt_id", "change")) == [(order, 5)]


@pytest.mark.django_db
def test_the_database_refuses_a_second_movement_of_one_receipt_and_item(make_item):
    # given
    item = make_item()
    order, receipt = uuid.uuid4(), uuid.uuid4()
    stock_receive_for_receipt(order_id=order, receipt_id=receipt, lines=[StockLine(item.pk, 2)], actor="purchase")
    row = StockMovement.objects.get()

    # when / then: a writer that skipped the service
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(
            item=item, change=2, quantity_after=4, reason=row.reason, reference=order, receipt_id=receipt, actor="x"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(
            item=item, change=2, quantity_after=4, reason=row.reason, reference=order, receipt_id=None, actor="x"
        )


@pytest.mark.django_db
def test_check_receipt_ledger_passes_when_the_ledger_holds_every_receipt(make_item, tmp_path):
    # given
    item = make_item()
    order, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for receipt, quantity in ((first, 6), (second, 4)):
        stock_receive_for_receipt(order_id=order, receipt_id=receipt, lines=[StockLine(item.pk, quantity)], actor="p")
    out = StringIO()

    # when
    call_command(
        "check_receipt_ledger",
        str(receipts_file(tmp_path, (order, first, item, 6), (order, second, item, 4))),
        stdout=out,
    )

    # then
    assert out.getvalue() == "receipt ledger: 2 receipt line(s) checked, all in the ledger exactly\n"


@pytest.mark.django_db
def test_check_receipt_ledger_names_missing_extra_and_different_receipts(make_item, tmp_path):
    # given: the ledger has receipt a (5, not 6) and c (not in purchase); purchase has b (not in the ledger)
    item = make_item()
    order, a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stock_receive_for_receipt(order_id=order, receipt_id=a, lines=[StockLine(item.pk, 5)], actor="p")
    stock_receive_for_receipt(order_id=order, receipt_id=c, lines=[StockLine(item.pk, 1)], actor="p")
    err = StringIO()
    path = receipts_file(tmp_path, (order, a, item, 6), (order, b, item, 2))

    # when
    with pytest.raises(CommandError) as caught:
        call_command("check_receipt_ledger", str(path), stdout=StringIO(), stderr=err)

    # then
    assert str(caught.value) == "3 receipt line(s) differ from the ledger."
    expected = {
        f"order {order} receipt {a} item {item.pk}: received 6, ledger 5, difference -1",
        f"order {order} receipt {b} item {item.pk}: received 2, ledger 0, difference -2",
        f"order {order} receipt {c} item {item.pk}: received 0, ledger 1, difference +1",
    }
    assert set(err.getvalue().splitlines()) == expected


@pytest.mark.django_db
def test_check_receipt_ledger_refuses_a_file_it_cannot_read(tmp_path):
    # given
    path = tmp_path / "receipts.json"
    path.write_text('{"orders": []}')

    # when / then
    with pytest.raises(CommandError, match="not what check_purchase_receipts --export writes"):
        call_command("check_receipt_ledger", str(path), stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize("first", ["receipts", "whole"])
def test_an_order_is_received_whole_or_by_receipts_never_both(make_item, first):
    # given: an order of 10, 4 received one way
    item = make_item()
    order, receipt = uuid.uuid4(), uuid.uuid4()
    by_receipt = lambda: stock_receive_for_receipt(  # noqa: E731
        order_id=order, receipt_id=receipt, lines=[StockLine(item.pk, 4)], actor="purchase"
    )
    whole = lambda: stock_receive_for_order(order_id=order, lines=[StockLine(item.pk, 10)], actor="purchase")  # noqa: E731
    (by_receipt if first == "receipts" else whole)()
    before = list(StockMovement.objects.values_list("receipt_id", "change"))

    # when / then: the other way is refused and writes nothing (the goods would count twice)
    with pytest.raises(WholeAndPartsReceived):
        (whole if first == "receipts" else by_receipt)()
    assert list(StockMovement.objects.values_list("receipt_id", "change")) == before
    assert on_hand(item) == ledger_total(item) == before[0][1]
