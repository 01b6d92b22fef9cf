"""``seed_demo`` (idempotent, opening stock in the ledger) and ``check_stock_ledger``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from erp_testkit.compat import POSTMAN_NAMES, POSTMAN_SKUS
from inventory.management.commands.seed_demo import DEMO
from inventory.models import Item, Stock, StockMovement
from inventory.services import stock_adjust

from .conftest import ledger_total, on_hand

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_each_item_once_with_its_opening_stock():
    # given
    call_command("seed_demo", stdout=StringIO())
    counts = (Item.objects.count(), StockMovement.objects.count())

    # when
    call_command("seed_demo", stdout=StringIO())

    # then
    assert counts == (len(DEMO), sum(1 for fields in DEMO if fields["opening_stock"]))
    assert (Item.objects.count(), StockMovement.objects.count()) == counts
    for fields in DEMO:
        item = Item.objects.get(sku=fields["sku"])
        assert on_hand(item) == fields["opening_stock"] == ledger_total(item)
    assert set(StockMovement.objects.values_list("reason", "actor", "note")) == {
        ("adjustment", "seed_demo", "opening stock")
    }


def test_seed_demo_keeps_an_existing_item_as_it_is(make_item):
    # given
    first = DEMO[0]
    make_item(sku=first["sku"], name="Edited by hand", stock=1)

    # when
    call_command("seed_demo", stdout=StringIO())

    # then
    item = Item.objects.get(sku=first["sku"])
    assert (item.name, on_hand(item)) == ("Edited by hand", 1)
    assert Item.objects.count() == len(DEMO)


def test_seed_demo_ids_json_prints_the_demo_items_ids_for_the_local_run():
    # given
    call_command("seed_demo", stdout=StringIO())
    out, err = StringIO(), StringIO()

    # when
    call_command("seed_demo", "--ids-json", stdout=out, stderr=err)

    # then: stdout is only the ids, in DEMO's order; the summary went to stderr
    assert json.loads(out.getvalue()) == {"items": [str(Item.objects.get(sku=f["sku"]).pk) for f in DEMO]}
    assert "items: 0 created" in err.getvalue()


def test_seed_demo_skus_do_not_clash_with_the_original_postman_collection():
    # then: its users can run it against the demo data without a 409
    assert POSTMAN_SKUS.isdisjoint({fields["sku"] for fields in DEMO})
    assert POSTMAN_NAMES.isdisjoint({fields["name"] for fields in DEMO})


def test_check_stock_ledger_passes_when_every_item_agrees(make_item):
    # given
    make_item(stock=3)
    item = make_item(stock=2)
    stock_adjust(changes={item.pk: -1}, actor="test")
    out = StringIO()

    # when
    call_command("check_stock_ledger", stdout=out)

    # then
    assert out.getvalue() == "stock ledger: 2 item(s) checked, all equal to their ledger and their summary figures\n"


def test_check_stock_ledger_catches_a_row_changed_behind_the_services_back(make_item):
    # given
    honest = make_item(sku="HONEST", stock=3)
    tampered = make_item(sku="TAMPERED", stock=5)
    untouched = make_item(sku="NO-MOVES")
    Stock.objects.filter(item_id=tampered.pk).update(quantity=9)
    Stock.objects.filter(item_id=untouched.pk).update(quantity=1)
    err = StringIO()

    # when
    with pytest.raises(CommandError) as caught:
        call_command("check_stock_ledger", stdout=StringIO(), stderr=err)

    # then
    # (on hand changed behind the services' back: the figures kept for the home no longer match it either)
    assert str(caught.value) == "2 item(s) differ from their ledger; 2 stock row(s) keep wrong summary figures."
    assert err.getvalue().splitlines() == [
        f"NO-MOVES ({untouched.pk}): on hand 1, ledger 0, difference +1",
        f"TAMPERED ({tampered.pk}): on hand 9, ledger 5, difference +4",
        *(
            f"{sku} ({item.pk}): summary figures (reorder shortfall, value) {kept}, recomputed {recomputed}"
            for sku, item, kept, recomputed in (
                ("NO-MOVES", untouched, "(0, 0.00)", "(none, 12.50)"),
                ("TAMPERED", tampered, "(none, 62.50)", "(none, 112.50)"),
            )
        ),
    ]
    assert on_hand(honest) == 3
