"""The inventory admin's CSV import (preview, then that same file) and export, through the import service."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Item, StockMovement

pytestmark = pytest.mark.django_db

ITEMS = "/admin/inventory/item/"
IMPORT = f"{ITEMS}import/"
FILE = b"sku,name,unit_price,quantity\r\nAB-1,Cable,4.50,7\r\n"


def upload(client, data: bytes, button: str, previewed: str = ""):
    return client.post(IMPORT, {"file": SimpleUploadedFile("items.csv", data), "previewed": previewed, button: "1"})


def test_preview_shows_what_the_import_would_do_and_writes_nothing(staff_login):
    # given
    client = staff_login("inventory_manager")

    # when
    response = upload(client, FILE, "preview")

    # then
    assert response.status_code == 200
    assert b"<strong>Preview:</strong> 1 created, 0 updated, 0 unchanged, 1 stock adjusted." in response.content
    assert hashlib.sha256(FILE).hexdigest().encode() in response.content
    assert Item.objects.count() == StockMovement.objects.count() == 0


def test_importing_the_previewed_file_goes_through_the_service(staff_login):
    # given
    client = staff_login("inventory_manager")

    # when
    response = upload(client, FILE, "import", previewed=hashlib.sha256(FILE).hexdigest())

    # then
    assert response.status_code == 200
    assert b"Imported: 1 created, 0 updated, 0 unchanged, 1 stock adjusted." in response.content
    movement = StockMovement.objects.get()
    assert (movement.item.sku, movement.change, movement.reason) == ("AB-1", 7, "adjustment")
    assert movement.note.startswith("import ")


def test_a_file_other_than_the_previewed_one_is_only_previewed(staff_login):
    # given
    client = staff_login("inventory_manager")

    # when
    response = upload(client, FILE, "import", previewed=hashlib.sha256(b"another file").hexdigest())

    # then
    assert b"This file is not the one previewed" in response.content
    assert b"<strong>Preview:</strong>" in response.content
    assert Item.objects.count() == 0


def test_a_bad_file_shows_every_bad_cell_and_writes_nothing(staff_login):
    # given
    client = staff_login("inventory_manager")
    data = b"sku,name,unit_price\nAB-1,,x\nAB-1,B,1\n"

    # when
    response = upload(client, data, "import", previewed=hashlib.sha256(data).hexdigest())

    # then
    assert response.status_code == 200
    for field in (b"rows.2.unit_price", b"rows.2.sku", b"rows.3.sku"):
        assert field in response.content
    assert Item.objects.count() == 0


def test_a_finance_manager_may_import_items_but_not_set_stock(staff_login):
    # given
    client = staff_login("finance_manager")

    # when
    response = upload(client, FILE, "import", previewed=hashlib.sha256(FILE).hexdigest())

    # then
    assert b"Setting stock needs the stock.adjust permission." in response.content
    assert Item.objects.count() == 0


def test_the_changelist_links_the_import_page(staff_login):
    # when
    changelist = staff_login("inventory_manager").get(ITEMS)

    # then
    assert f'<a href="{IMPORT}">Import CSV</a>'.encode() in changelist.content


def test_export_action_answers_the_selected_items_as_csv(staff_login, make_item):
    # given
    client = staff_login("finance_manager")
    one = make_item(sku="AB-1", name="=cmd", description="", unit_price="1", stock=2)
    make_item(sku="AB-2", name="Other")

    # when
    response = client.post(ITEMS, {"action": "export_csv", "_selected_action": [str(one.pk)]})

    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="items.csv"'
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "sku,name,description,unit_price,reorder_level,max_level,quantity",
        "AB-1,'=cmd,,1.00,0,0,2",
    ]
