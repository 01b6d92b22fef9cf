"""The Django admin: items through the services, a read-only ledger, stock changed only by the action."""

from __future__ import annotations

import pytest

from inventory.models import Item, Stock, StockMovement

from .conftest import ledger_total, on_hand

pytestmark = pytest.mark.django_db

ITEMS = "/admin/inventory/item/"
LEDGER = "/admin/inventory/stockmovement/"


def form(**overrides) -> dict:
    return {
        "sku": " adm-1 ",
        "name": "Admin made",
        "description": "",
        "unit_price": "2.50",
        "reorder_level": "1",
        "max_level": "0",
        **overrides,
    }


def test_admin_lists_items_with_stock_and_searches(make_item, admin_client):
    # given
    make_item(sku="FIND-ME", name="Findable", stock=17)
    make_item(sku="HIDE", name="Hidden")

    # when
    response = admin_client.get(ITEMS, {"q": "find"})

    # then
    assert response.status_code == 200
    assert b"FIND-ME" in response.content and b"HIDE" not in response.content
    assert b'<td class="field-quantity_on_hand">17</td>' in response.content


def test_admin_filters_items_at_or_below_reorder_level(make_item, admin_client):
    # given
    make_item(sku="LOW-ONE", reorder_level=5, stock=5)
    make_item(sku="FINE-ONE", reorder_level=5, stock=6)

    # when
    response = admin_client.get(ITEMS, {"below_reorder_level": "true"})

    # then
    assert b"LOW-ONE" in response.content and b"FINE-ONE" not in response.content


def test_admin_add_goes_through_the_service(admin_client):
    # when
    response = admin_client.post(f"{ITEMS}add/", form())

    # then
    assert response.status_code == 302, response.content
    item = Item.objects.get()
    assert item.sku == "ADM-1"
    assert Stock.objects.get(item_id=item.pk).quantity == 0


def test_admin_refuses_a_duplicate_sku_in_any_case(make_item, admin_client, snapshot):
    # given
    make_item(sku="ADM-1")
    before = snapshot()

    # when
    response = admin_client.post(f"{ITEMS}add/", form(sku="adm-1"))

    # then: the form shows the error, nothing is written
    assert response.status_code == 200
    assert snapshot() == before


def test_admin_change_form_has_no_quantity_to_edit(make_item, admin_client):
    # given
    item = make_item(stock=4)

    # when: a quantity smuggled into the form
    response = admin_client.post(f"{ITEMS}{item.pk}/change/", form(sku=item.sku, quantity="99"))

    # then
    assert response.status_code == 302
    assert on_hand(item) == 4
    page = admin_client.get(f"{ITEMS}{item.pk}/change/").content
    assert b'name="quantity' not in page


def test_adjust_stock_action_asks_for_the_change_and_a_reason(make_item, admin_client, snapshot):
    # given
    item = make_item(stock=4)
    before = snapshot()

    # when
    response = admin_client.post(ITEMS, {"action": "adjust_stock", "_selected_action": [str(item.pk)]})

    # then
    assert response.status_code == 200
    assert b'name="change"' in response.content and b'name="reason"' in response.content
    assert snapshot() == before


def test_adjust_stock_action_calls_the_service(make_item, admin_client, admin_user):
    # given
    first, second = make_item(stock=4), make_item(stock=1)

    # when
    response = admin_client.post(
        ITEMS,
        {
            "action": "adjust_stock",
            "_selected_action": [str(first.pk), str(second.pk)],
            "apply": "1",
            "change": "3",
            "reason": "found in the back",
        },
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert b"changed by +3" in response.content
    assert (on_hand(first), on_hand(second)) == (7, 4)
    assert (ledger_total(first), ledger_total(second)) == (7, 4)
    movement = StockMovement.objects.filter(item_id=first.pk).latest("created_at")
    assert (movement.reason, movement.note, movement.actor) == ("adjustment", "found in the back", admin_user.username)


def test_a_refused_adjustment_shows_a_message_and_changes_nothing(make_item, admin_client, snapshot):
    # given: one of the two would go below zero
    plenty, scarce = make_item(stock=10), make_item(stock=1)
    before = snapshot()

    # when
    response = admin_client.post(
        ITEMS,
        {
            "action": "adjust_stock",
            "_selected_action": [str(plenty.pk), str(scarce.pk)],
            "apply": "1",
            "change": "-2",
            "reason": "breakage",
        },
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert b"Nothing was changed" in response.content
    assert f"item {scarce.pk}: requested 2, available 1".encode() in response.content
    assert snapshot() == before


def test_adjust_stock_action_refuses_a_zero_change(make_item, admin_client, snapshot):
    # given
    item = make_item(stock=1)
    before = snapshot()

    # when
    response = admin_client.post(
        ITEMS,
        {"action": "adjust_stock", "_selected_action": [str(item.pk)], "apply": "1", "change": "0", "reason": "x"},
    )

    # then: the form again, with the error
    assert response.status_code == 200
    assert b"Must be a non-zero change." in response.content
    assert snapshot() == before


@pytest.mark.parametrize("action", ["adjust_stock", "delete_selected"])
def test_an_action_on_a_tampered_selection_shows_a_message_and_changes_nothing(
    make_item, admin_client, snapshot, action
):
    # given: a selection that is not an item id, beside one that is
    item = make_item(stock=1)
    before = snapshot()

    # when
    response = admin_client.post(
        ITEMS,
        {"action": action, "_selected_action": [str(item.pk), "nope"], "apply": "1", "change": "1", "reason": "x"},
        follow=True,
    )

    # then: the list again with the reason, not a 500
    assert response.status_code == 200
    assert "Nothing was changed: “nope” is not a valid UUID.".encode() in response.content
    assert snapshot() == before


def test_admin_will_not_delete_an_item_with_a_ledger(make_item, admin_client, snapshot):
    # given
    item = make_item(stock=2)
    before = snapshot()

    # when
    response = admin_client.post(f"{ITEMS}{item.pk}/delete/", {"post": "yes"})

    # then: the movements protect it
    assert response.status_code == 200
    assert b"Cannot delete item" in response.content
    assert snapshot() == before


def test_admin_deletes_an_unused_item_through_the_service(make_item, admin_client):
    # given
    item = make_item()

    # when
    response = admin_client.post(f"{ITEMS}{item.pk}/delete/", {"post": "yes"})

    # then
    assert response.status_code == 302
    assert not Item.objects.exists() and not Stock.objects.exists()


def test_ledger_is_listed_filtered_and_read_only(make_item, admin_client, snapshot):
    # given
    item = make_item(sku="LEDGER-1", stock=3)
    movement = StockMovement.objects.get(item_id=item.pk)
    before = snapshot()

    # when
    listing = admin_client.get(LEDGER, {"reason__exact": "adjustment", "item__id__exact": str(item.pk)})
    add = admin_client.get(f"{LEDGER}add/")
    change = admin_client.post(f"{LEDGER}{movement.pk}/change/", {"change": "100", "quantity_after": "100"})
    delete = admin_client.post(f"{LEDGER}{movement.pk}/delete/", {"post": "yes"})

    # then
    assert listing.status_code == 200 and b"LEDGER-1" in listing.content
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert snapshot() == before


# ------------------------------------------------------------------ by role (common.roles)


def _adjust(client, item, change: str, reason: str = "stocktake"):
    form = {"action": "adjust_stock", "_selected_action": [str(item.pk)], "apply": "1"}
    return client.post(ITEMS, {**form, "change": change, "reason": reason}, follow=True)


def test_an_inventory_manager_adjusts_stock_and_sees_the_movement_in_the_ledger(make_item, staff_login):
    # given
    item = make_item(sku="COUNT-ME", stock=2)
    client = staff_login("inventory_manager", username="ivy.staff@example.com")

    # when
    response = _adjust(client, item, "5", "stocktake 2026-12")
    ledger = client.get(LEDGER, {"item__id__exact": str(item.pk), "reason__exact": "adjustment"})

    # then
    assert b"changed by +5" in response.content
    assert on_hand(item) == 7 == ledger_total(item)
    rows = [(m.change, m.quantity_after, m.actor, m.note) for m in ledger.context["cl"].result_list]
    assert rows[0] == (5, 7, "ivy.staff@example.com", "stocktake 2026-12")


def test_a_finance_manager_is_not_offered_the_adjustment_and_posting_it_changes_nothing(
    make_item, staff_login, snapshot
):
    # given
    item = make_item(stock=2)
    client = staff_login("finance_manager")
    before = snapshot()

    # when
    listing = client.get(ITEMS)
    response = _adjust(client, item, "5")

    # then
    assert b'value="adjust_stock"' not in listing.content and b'value="delete_selected"' in listing.content
    assert [str(message) for message in response.context["messages"]] == ["No action selected."]
    assert snapshot() == before


def test_only_a_finance_manager_deletes_items(make_item, staff_login):
    # given
    kept, deleted = make_item(), make_item()

    # when
    refused = staff_login("inventory_manager").post(f"{ITEMS}{kept.pk}/delete/", {"post": "yes"})
    done = staff_login("finance_manager").post(f"{ITEMS}{deleted.pk}/delete/", {"post": "yes"})

    # then
    assert (refused.status_code, done.status_code) == (403, 302)
    assert list(Item.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_item_list_links_each_items_ledger(make_item, staff_login):
    # given
    item = make_item(stock=1)

    # when
    response = staff_login("finance_manager").get(ITEMS)

    # then
    assert f'href="{LEDGER}?item__id__exact={item.pk}"'.encode() in response.content


def test_admin_lists_each_items_open_backorders_oldest_confirmation_first(make_item, admin_client):
    # given: two orders wait for one item (the later one confirmed first in time order: 09:05 vs 09:01)
    import datetime as dt
    import uuid

    from inventory.lines import StockLine
    from inventory.services import stock_issue_for_order

    item, other = make_item(sku="WAITED-FOR"), make_item(sku="OTHER")
    late, early, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for order, minute, waited in ((late, 5, item), (early, 1, item), (elsewhere, 0, other)):
        stock_issue_for_order(
            order_id=order,
            lines=[StockLine(item_id=waited.pk, quantity=2)],
            actor="sales",
            allow_backorder=True,
            confirmed_at=dt.datetime(2026, 12, 1, 9, minute, tzinfo=dt.UTC),
        )

    # when
    items = admin_client.get(ITEMS, {"q": "WAITED"})
    queue = admin_client.get("/admin/inventory/backorder/", {"item__id__exact": str(item.pk)})

    # then
    assert b'<td class="field-quantity_backordered">4</td>' in items.content
    assert [row.order_id for row in queue.context["cl"].result_list] == [early, late]
