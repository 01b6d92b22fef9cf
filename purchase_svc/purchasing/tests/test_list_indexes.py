"""Every filter and ordering of the purchase order list, and the index that serves it on PostgreSQL (or why none does).

As for the sales order list (sales/tests/test_list_indexes.py): a filter or an ordering no index
serves reads every order and sorts them for each page. The plans are asked with scans and sorts
priced out (erp_testkit.plans): a test's few rows never make the planner pick an index on its own,
and an index removed is a plan without its name.
"""

from __future__ import annotations

import pytest

from erp_testkit.plans import assert_every_parameter_listed, assert_index_serves
from purchasing.filters import ORDERING_FIELDS, PurchaseOrderFilter

pytestmark = pytest.mark.django_db

# A query string of the list -> the index its first page and its count are read from (Django names a
# field's db_index: its prefix is enough).
SERVED_BY = {
    "": "purchasing_purchaseorder_created_at_",  # newest first
    "vendor_id=0b6f3c52-8f55-4a8e-9d59-2a8f1f1c1e01": "purchase_order_vendor_idx",
    "status=Draft": "purchasing_purchaseorder_status_",
    "stock_refused=true": "purchase_order_refused_idx",
    "created_after=2026-01-01T00:00:00Z": "purchasing_purchaseorder_created_at_",
    "created_before=2026-01-01T00:00:00Z": "purchasing_purchaseorder_created_at_",
    "received_after=2026-01-01T00:00:00Z": "purchasing_purchaseorder_received_at_",
    "received_before=2026-01-01T00:00:00Z": "purchasing_purchaseorder_received_at_",
    "ordering=created_at": "purchasing_purchaseorder_created_at_",
    "ordering=-created_at": "purchasing_purchaseorder_created_at_",
    "ordering=updated_at": "purchase_order_updated_idx",
    "ordering=-updated_at": "purchase_order_updated_idx",
    "ordering=total_amount": "purchase_order_total_idx",
    "ordering=-total_amount": "purchase_order_total_idx",
    # Five statuses: the page sorts the first status's orders by id (an incremental sort), not every order.
    "ordering=status": "purchasing_purchaseorder_status_",
    "ordering=-status": "purchasing_purchaseorder_status_",
}
# What no index serves, and why none would.
UNINDEXED = {
    "search": "a word in the vendor's name or in any line's SKU (an EXISTS over the lines): staff search for an "
    "order rarely; as the sales order list's (docs/performance.md)",
    "closed_short": "two values, most orders on one side: the newest-first index finds a page of either side "
    "after reading the orders of the other side newer than it, which a bitmap of the flag would not avoid",
    "origin": "two values (manual, replenishment), as closed_short",
}


def test_every_filter_and_ordering_is_listed_with_its_index_or_why_none():
    assert_every_parameter_listed(PurchaseOrderFilter, ORDERING_FIELDS, SERVED_BY, UNINDEXED)


@pytest.mark.parametrize(("query", "index"), SERVED_BY.items())
def test_the_index_serves_it(postgresql, as_admin, query, index):
    assert_index_serves(as_admin, f"/orders?{query}", index, table="purchasing_purchaseorder")
