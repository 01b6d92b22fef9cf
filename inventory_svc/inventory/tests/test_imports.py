"""Items in and out as CSV: round trip, dry run, all or nothing, stock counts, duplicates, safe cells, roles."""

from __future__ import annotations

import pytest

from inventory.models import Item, MovementReason, Stock, StockMovement

from .conftest import ledger_total, on_hand

pytestmark = pytest.mark.django_db

HEADER = "sku,name,description,unit_price,reorder_level,quantity\r\n"


def post_csv(client, text: str | bytes, *, query: str = "", **headers):
    data = text.encode() if isinstance(text, str) else text
    return client.generic("POST", f"/items/import{query}", data, content_type="text/csv", **headers)


def export(client, query: str = "") -> str:
    response = client.get(f"/items/export{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode()


def counts(created=0, updated=0, unchanged=0, stock_adjusted=0) -> dict:
    return {"created": created, "updated": updated, "unchanged": unchanged, "stock_adjusted": stock_adjusted}


def result(response) -> dict:
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    return {key: data[key] for key in ("created", "updated", "unchanged", "stock_adjusted")}


# --- import -----------------------------------------------------------------------------------


def test_import_creates_items_with_opening_stock_as_one_adjustment_each(as_im):
    # given
    text = HEADER + "ab-1,Cable,USB-C,4.50,3,10\r\nab-2,Plug,,0,,0\r\n"

    # when
    response = post_csv(as_im, text)

    # then
    assert result(response) == counts(created=2, stock_adjusted=1)
    import_id = response.json()["data"]["import_id"]
    cable, plug = Item.objects.get(sku="AB-1"), Item.objects.get(sku="AB-2")
    assert (cable.name, cable.description, str(cable.unit_price), cable.reorder_level) == ("Cable", "USB-C", "4.50", 3)
    assert (plug.description, str(plug.unit_price), plug.reorder_level) == ("", "0.00", 0)
    movement = StockMovement.objects.get()
    assert (movement.item_id, movement.change, movement.quantity_after, movement.reason) == (
        cable.pk,
        10,
        10,
        MovementReason.ADJUSTMENT,
    )
    assert (movement.note, movement.actor, movement.reference) == (
        f"import {import_id}",
        "inventory_manager@example.com",
        None,
    )
    assert on_hand(cable) == ledger_total(cable) == 10
    assert on_hand(plug) == 0


def test_import_updates_by_sku_and_sets_stock_by_the_difference(as_im, make_item):
    # given: 7 on hand; the count says 4
    item = make_item(sku="AB-1", name="Old", unit_price=1, stock=7)

    # when
    response = post_csv(as_im, "sku,name,quantity\nab-1,New,4\n")

    # then
    assert result(response) == counts(updated=1, stock_adjusted=1)
    item.refresh_from_db()
    assert (item.name, str(item.unit_price)) == ("New", "1.00")
    assert [m.change for m in StockMovement.objects.filter(item=item).order_by("created_at")] == [7, -3]
    assert on_hand(item) == ledger_total(item) == 4


def test_a_count_equal_to_the_stock_writes_no_movement(as_im, make_item):
    # given
    make_item(sku="AB-1", name="Cable", stock=5)

    # when
    response = post_csv(as_im, "sku,quantity\nAB-1,5\n")

    # then
    assert result(response) == counts(unchanged=1)
    assert StockMovement.objects.count() == 1  # the setup's


def test_dry_run_answers_the_same_counts_and_writes_nothing(as_im, make_item, snapshot):
    # given
    make_item(sku="AB-1", name="Cable", stock=5)
    text = "sku,name,quantity\nAB-1,Cable 2,2\nAB-9,New,1\n"
    before = snapshot()

    # when
    dry = post_csv(as_im, text, query="?dry_run=true")

    # then
    assert result(dry) == counts(created=1, updated=1, stock_adjusted=2)
    assert dry.json()["data"]["dry_run"] is True
    assert snapshot() == before
    # and the real import does what the dry run said
    assert result(post_csv(as_im, text)) == counts(created=1, updated=1, stock_adjusted=2)


def test_one_bad_cell_refuses_the_whole_file_naming_every_bad_cell(as_im, make_item, snapshot):
    # given
    make_item(sku="AB-1", name="Cable", stock=5)
    text = HEADER + "AB-1,Cable,,-1,,3\nAB-2,Plug,,2.999,x,\nAB-3,,,1,,\n"
    before = snapshot()

    # when
    response = post_csv(as_im, text)

    # then
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["type"] == "validation"
    assert {detail["field"] for detail in error["details"]} == {
        "rows.2.unit_price",
        "rows.3.unit_price",
        "rows.3.reorder_level",
    }
    assert snapshot() == before


def test_a_new_item_without_a_name_is_refused_naming_its_line(as_im, snapshot):
    # given
    before = snapshot()

    # when
    response = post_csv(as_im, "sku,quantity\nAB-1,3\n")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "rows.2.name", "message": "Required for a new item."}]
    assert snapshot() == before


def test_the_same_sku_twice_is_refused_naming_both_lines(as_im, snapshot):
    # given: two spellings of one SKU
    before = snapshot()

    # when
    response = post_csv(as_im, "sku,name\nab-1,A\nAB-2,B\n ab-1 ,C\n")

    # then
    assert response.status_code == 400
    message = "'AB-1' is on line 2 and again on line 4."
    assert response.json()["error"]["details"] == [
        {"field": "rows.2.sku", "message": message},
        {"field": "rows.4.sku", "message": message},
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("sku,colour\nA,red\n", "columns"),
        ("sku,name,name\nA,b,c\n", "columns"),
        ("name\nA\n", "columns"),
        ("", "file"),
        (b"sku,name\nA,\xff\n", "file"),
        ("sku,name\nA,b,c\n", "rows.2"),
    ],
)
def test_unreadable_files_are_400_naming_the_problem(as_im, text, field, snapshot):
    # given
    before = snapshot()

    # when
    response = post_csv(as_im, text)

    # then
    assert response.status_code == 400, response.content
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]
    assert snapshot() == before


def test_a_bom_and_crlf_line_ends_are_read(as_im):
    # when
    response = post_csv(as_im, "\ufeffsku,name\r\nAB-1,Cable\r\n".encode())

    # then
    assert result(response) == counts(created=1)
    assert Item.objects.get().sku == "AB-1"


def test_another_media_type_is_415(as_im):
    # when
    response = as_im.post("/items/import", {"sku": "A"}, format="json")

    # then
    assert response.status_code == 415
    assert Item.objects.count() == 0


def test_a_finance_manager_imports_items_but_not_stock(as_fm, snapshot):
    # given
    before = snapshot()

    # when
    refused = post_csv(as_fm, "sku,name,quantity\nAB-1,Cable,4\n")
    allowed = post_csv(as_fm, "sku,name,quantity\nAB-1,Cable,\n")

    # then
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["field"] == "quantity"
    assert result(allowed) == counts(created=1)
    assert snapshot()[2] == before[2]  # no movement


def test_idempotency_key_replays_the_first_answer(as_im):
    # given
    text = "sku,name,quantity\nAB-1,Cable,4\n"

    # when
    first = post_csv(as_im, text, HTTP_IDEMPOTENCY_KEY="import-1")
    again = post_csv(as_im, text, HTTP_IDEMPOTENCY_KEY="import-1")

    # then
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.count() == 1


# --- export -----------------------------------------------------------------------------------


def test_export_then_import_changes_nothing(as_im, make_item, snapshot):
    # given
    make_item(sku="AB-1", name='Cable, "long"', description="two\nlines", unit_price="4.50", stock=3)
    make_item(sku="AB-2", name="=HYPERLINK(1)", description="-5 pcs", reorder_level=2)
    make_item(sku="AB-3", name="'=already quoted", description="@home +1")
    before = snapshot()

    # when
    text = export(as_im)
    response = post_csv(as_im, text)

    # then
    assert result(response) == counts(unchanged=3)
    assert snapshot() == before


def test_export_prefixes_formula_looking_cells(as_im, make_item):
    # given
    make_item(sku="AB-1", name="=1+1", description="+cmd", unit_price="1")
    make_item(sku="AB-2", name="-2", description="@SUM(A1)", unit_price="1")

    # when
    lines = export(as_im, "?ordering=sku").splitlines()

    # then
    assert lines == [
        "sku,name,description,unit_price,reorder_level,max_level,quantity",
        "AB-1,'=1+1,'+cmd,1.00,0,0,0",
        "AB-2,'-2,'@SUM(A1),1.00,0,0,0",
    ]


def test_export_selects_what_the_lists_filters_and_search_select(as_im, make_item):
    # given
    make_item(sku="CAB-1", name="Cable", description="", unit_price="1")
    make_item(sku="PLG-1", name="Plug", description="", unit_price="1")

    # when
    text = export(as_im, "?search=cable")

    # then
    assert text.splitlines()[1:] == ["CAB-1,Cable,,1.00,0,0,0"]


def test_export_is_every_item_not_a_page(as_im, make_item):
    # given
    for n in range(12):
        make_item(sku=f"AB-{n:02}", name=f"Item {n}")

    # when
    rows = export(as_im, "?limit=5").splitlines()[1:]

    # then
    assert len(rows) == 12
    assert Stock.objects.count() == 12
