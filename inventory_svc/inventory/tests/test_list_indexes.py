"""Every filter and ordering of the item list, and the index that serves it on PostgreSQL (or why none does).

At 100,000 items a filter or an ordering no index serves reads every item and sorts them for each
page (bench/scale.py, docs/performance.md "Data at scale"). The plans are asked with scans and sorts
priced out (erp_testkit.plans): a test's few rows never make the planner pick an index on its own,
and an index removed is a plan without its name.
"""

from __future__ import annotations

import pytest

from erp_testkit.plans import assert_every_parameter_listed, assert_index_serves
from inventory.filters import ORDERING_FIELDS, ItemFilter

pytestmark = pytest.mark.django_db

# A query string of the list -> the index (or indexes) its first page and its count are read from.
SERVED_BY = {
    "": "item_created_idx",  # newest first
    "search=keyboard": ("item_sku_trgm_idx", "item_name_trgm_idx"),
    "sku=ab-1": "inventory_item_sku_uniq",
    "created_after=2026-01-01T00:00:00Z": "item_created_idx",
    "created_before=2026-01-01T00:00:00Z": "item_created_idx",
    "ordering=sku": "inventory_item_sku_uniq",
    "ordering=-sku": "inventory_item_sku_uniq",
    "ordering=name": "item_name_idx",
    "ordering=-name": "item_name_idx",
    "ordering=unit_price": "item_unit_price_idx",
    "ordering=-unit_price": "item_unit_price_idx",
    "ordering=reorder_level": "item_reorder_level_idx",
    "ordering=-reorder_level": "item_reorder_level_idx",
    "ordering=created_at": "item_created_idx",
    "ordering=-created_at": "item_created_idx",
    "ordering=updated_at": "item_updated_idx",
    "ordering=-updated_at": "item_updated_idx",
}
# What no index serves, and why none would.
UNINDEXED = {
    "active": "true is nearly every item; the archived few are met within the first page's walk of the "
    "created_at index (the count reads the items either way, as the unfiltered list's does)",
    "below_reorder_level": "compares the stock row's on hand with the item's reorder level: two tables, "
    "no one index holds both (the home's stock_below_reorder_idx leaves archived items out)",
    "ordering=quantity": "on hand is the stock row's, joined to the item by a LEFT JOIN (the item's row is "
    "made with it, but nothing in the schema says so): no index on the stock can order the items",
    "ordering=-quantity": "as ordering=quantity",
}


def test_every_filter_and_ordering_is_listed_with_its_index_or_why_none():
    assert_every_parameter_listed(ItemFilter, ORDERING_FIELDS, SERVED_BY, UNINDEXED)


@pytest.mark.parametrize(("query", "indexes"), SERVED_BY.items())
def test_the_index_serves_it(postgresql, as_admin, make_item, query, indexes):
    make_item(stock=3)

    assert_index_serves(as_admin, f"/items?{query}", indexes, table="inventory_item")


def test_one_items_movements_are_read_from_its_ledger_index(postgresql, as_admin, make_item):
    item = make_item(stock=3)

    assert_index_serves(as_admin, f"/items/{item.pk}/movements", "movement_item_created_idx", "inventory_stockmovement")
