"""Replenishment: low-stock events raise one draft per vendor, ordering what is needed once, whatever is redelivered."""

from __future__ import annotations

import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from common.events import registry
from purchasing.models import PurchaseOrder, PurchaseOrderLine
from purchasing.receipts import ReceiptRequest
from purchasing.replenishment import order_quantity
from purchasing.services import purchase_order_cancel, purchase_order_receipt_create, purchase_order_receive

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def drafts() -> list[tuple[str, str, list[tuple[str, int, Decimal]]]]:
    """Every replenishment order: (vendor name, status, [(sku, quantity, unit price), ...])."""
    orders = PurchaseOrder.objects.filter(origin="replenishment").order_by("created_at").prefetch_related("lines")
    return [
        (order.vendor_name, order.status, [(line.sku, line.quantity, line.unit_price) for line in order.lines.all()])
        for order in orders
    ]


def check() -> str:
    out = StringIO()
    call_command("check_replenishment", stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize(
    ("needed", "pack", "minimum", "expected"),
    [(16, 6, 6, 18), (18, 6, 6, 18), (1, 6, 12, 12), (13, 6, 12, 18), (5, 1, 1, 5), (7, 1, 10, 10)],
)
def test_order_quantity_rounds_up_to_whole_packs_then_to_the_minimum(needed, pack, minimum, expected):
    assert order_quantity(needed=needed, pack_size=pack, min_order_quantity=minimum) == expected


def test_the_worked_example_orders_18_once_while_the_draft_is_open(vendor_item, low):
    # given: reorder level 5, max level 20; the preferred vendor item packs 6, minimum 6, at 1.50
    vi = vendor_item(pack_size=6, min_order_quantity=6, unit_cost="1.50")

    # when: the stock falls from 10 to 4
    low(vi, quantity=4, version=2)

    # then: one replenishment draft for the vendor, one line of 18 (20 - 4 = 16, in packs of 6) at 1.50
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 18, Decimal("1.50"))])]
    assert PurchaseOrder.objects.get().total_amount == Decimal("27.00")

    # when: the stock goes back above 5 and down to 4 again while the draft is open
    low(vi, quantity=4, version=4)

    # then: still one draft, still 18
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 18, Decimal("1.50"))])]
    assert check() == "replenishment: 1 open draft(s) checked, one per vendor, all consistent"


def test_the_same_event_redelivered_or_duplicated_changes_nothing(vendor_item, low):
    # given
    vi = vendor_item()
    event_id = uuid.uuid4()
    assert low(vi, quantity=4, version=2, event_id=event_id) is True

    # when: redelivered (the inbox knows it), then published again under another id
    assert low(vi, quantity=4, version=2, event_id=event_id) is False
    low(vi, quantity=4, version=2)

    # then
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 18, Decimal("1.50"))])]


def test_an_overtaken_event_changes_nothing(vendor_item, low):
    # given: the newer figures (4 on hand, nothing waiting: an adjustment filled the backorders) arrive first
    vi = vendor_item(pack_size=1, min_order_quantity=1)
    low(vi, quantity=4, version=5)

    # when: the older ones (nothing on hand, 10 waiting) arrive after them
    low(vi, quantity=0, backordered=10, version=3)

    # then: 20 - 4 = 16, from the newest figures only (the older would have asked for 14 more)
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 16, Decimal("1.50"))])]


def test_the_line_grows_by_what_is_needed_beyond_what_is_on_order(vendor_item, low):
    # given: 18 on order after the stock fell to 4
    vi = vendor_item(pack_size=6, min_order_quantity=6)
    low(vi, quantity=4, version=2)

    # when: sold down to 0 with 7 more waiting: 20 + 7 - 0 - 18 = 9, two packs
    low(vi, quantity=0, backordered=7, version=6)

    # then: the one line grows to 30
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 30, Decimal("1.50"))])]
    assert PurchaseOrder.objects.get().total_amount == Decimal("45.00")


def test_two_items_of_one_vendor_end_in_one_draft_and_other_vendors_in_their_own(services, vendor_item, low):
    # given
    bolts, nuts = vendor_item(sku="BOLT-6"), vendor_item(sku="NUT-6", unit_cost="0.20")
    washers = vendor_item(sku="WASHER-6", vendor=services.add_contact("vendors", "Contoso Parts"))

    # when
    low(bolts, quantity=4, version=2)
    low(washers, quantity=5, version=2)
    low(nuts, quantity=0, version=3)

    # then
    assert drafts() == [
        ("Northwind Components", "Draft", [("BOLT-6", 18, Decimal("1.50")), ("NUT-6", 24, Decimal("0.20"))]),
        ("Contoso Parts", "Draft", [("WASHER-6", 18, Decimal("1.50"))]),
    ]


def test_received_stock_clears_on_order_so_the_next_low_stock_orders_again(vendor_item, low):
    # given: the draft of 18 received in full
    vi = vendor_item()
    low(vi, quantity=4, version=2)
    purchase_order_receive(order_id=PurchaseOrder.objects.get().pk, actor="test")

    # when: the stock falls to 4 again
    low(vi, quantity=4, version=9)

    # then: a new draft of 18 beside the received order
    assert drafts() == [
        ("Northwind Components", "Received", [("BOLT-6", 18, Decimal("1.50"))]),
        ("Northwind Components", "Draft", [("BOLT-6", 18, Decimal("1.50"))]),
    ]


def test_a_partly_received_order_still_counts_what_it_expects(vendor_item, low):
    # given: 12 of the 18 received, so the draft is PartiallyReceived and 6 are still expected
    vi = vendor_item()
    low(vi, quantity=4, version=2)
    order = PurchaseOrder.objects.get()
    purchase_order_receipt_create(
        order_id=order.pk, items=[ReceiptRequest(item_id=uuid.UUID(vi["item_id"]), quantity=12)], actor="test"
    )

    # when: down to 3 on hand: 20 - 3 - 6 = 11, two packs
    low(vi, quantity=3, version=9)

    # then
    assert drafts() == [
        ("Northwind Components", "PartiallyReceived", [("BOLT-6", 18, Decimal("1.50"))]),
        ("Northwind Components", "Draft", [("BOLT-6", 12, Decimal("1.50"))]),
    ]


def test_a_cancelled_draft_no_longer_counts_and_the_next_event_raises_a_new_one(vendor_item, low):
    # given
    vi = vendor_item()
    low(vi, quantity=4, version=2)
    purchase_order_cancel(order_id=PurchaseOrder.objects.get().pk, actor="test")

    # when
    low(vi, quantity=3, version=3)

    # then
    assert [(status, lines[0][1]) for _, status, lines in drafts()] == [("Cancelled", 18), ("Draft", 18)]


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ({"max_level": 0}, "no max level: never reordered"),
        ({"quantity": 20, "reorder_level": 20}, "on hand is the max level"),
    ],
)
def test_nothing_is_ordered_when_nothing_is_needed(vendor_item, low, event, why):
    # given
    vi = vendor_item()

    # when
    low(vi, version=2, **{"quantity": 4, **event})

    # then
    assert (why, PurchaseOrder.objects.count()) == (why, 0)


def test_an_item_without_a_preferred_vendor_is_listed_as_needing_one_until_it_has_one(
    services, vendor_id, vendor_item, low, as_im, as_admin
):
    # given: the item's only vendor item is not preferred
    vi = vendor_item(preferred=False)

    # when
    low(vi, quantity=4, backordered=3, version=2)

    # then: no draft, and the list names what it needs
    assert PurchaseOrder.objects.count() == 0
    response = as_im.get("/replenishment")
    assert response.status_code == 200
    rows = response.json()["data"]
    assert [{key: row[key] for key in row if key != "updated_at"} for row in rows] == [
        {
            "item_id": vi["item_id"],
            "sku": "BOLT-6",
            "quantity": 4,
            "backordered": 3,
            "reorder_level": 5,
            "max_level": 20,
            "on_order": 0,
            "needed": 19,
        }
    ]

    # when: the vendor item becomes preferred
    as_admin.patch(f"/vendor-items/{vi['id']}", {"preferred": True}, format="json")

    # then: it is no longer listed
    assert as_im.get("/replenishment").json()["data"] == []


def test_a_v1_low_stock_event_orders_nothing(vendor_item, deliver):
    # given
    vi = vendor_item()

    # when: an inventory_svc from before replenishment announces the item low (no max level)
    data = {"item_id": vi["item_id"], "sku": vi["sku"], "quantity": 0, "reorder_level": 5}
    deliver(registry.STOCK_LOW, data, aggregate_version=2)

    # then
    assert PurchaseOrder.objects.count() == 0


def test_check_replenishment_names_a_draft_whose_total_differs_from_its_lines(vendor_item, low):
    # given: a replenishment draft whose line was changed behind the services' back
    vi = vendor_item()
    low(vi, quantity=4, version=2)
    PurchaseOrderLine.objects.update(quantity=20)
    err = StringIO()

    # when
    with pytest.raises(CommandError) as raised:
        call_command("check_replenishment", stderr=err)

    # then
    draft = PurchaseOrder.objects.get()
    assert str(raised.value) == "1 replenishment finding(s)."
    assert err.getvalue().splitlines() == [
        f"replenishment draft {draft.pk}: line 0 (BOLT-6): subtotal 27.00, 20 x 1.50"
    ]


def test_check_replenishment_names_a_draft_whose_total_is_not_the_sum_of_its_lines(vendor_item, low):
    # given
    vi = vendor_item()
    low(vi, quantity=4, version=2)
    PurchaseOrder.objects.update(total_amount=Decimal("30.00"))
    err = StringIO()

    # when
    with pytest.raises(CommandError):
        call_command("check_replenishment", stderr=err)

    # then
    draft = PurchaseOrder.objects.get()
    assert err.getvalue().splitlines() == [f"replenishment draft {draft.pk}: total_amount 30.00, lines 27.00"]


def test_the_needs_a_vendor_list_query_count_is_pinned(vendor_item, low, draft, as_fm, django_assert_num_queries):
    # given: three items low without a preferred vendor item, 5 of the first on a manual draft
    items = [vendor_item(sku=f"LOW-{n}", preferred=False) for n in range(3)]
    for version, vi in enumerate(items, start=2):
        low(vi, quantity=1, version=version)
    draft([(items[0]["item_id"], 5)])

    # when: the count and the page, on order and the preferred check inside them
    with django_assert_num_queries(2):
        response = as_fm.get("/replenishment", {"ordering": "-needed,sku"})

    # then: 20 - 1 = 19, less what is on order
    rows = [(row["sku"], row["on_order"], row["needed"]) for row in response.json()["data"]]
    assert rows == [("LOW-1", 0, 19), ("LOW-2", 0, 19), ("LOW-0", 5, 14)]
