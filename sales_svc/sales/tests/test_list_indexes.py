"""Every filter and ordering of the sales order list, and the index that serves it on PostgreSQL (or why none does).

At 100,000 orders a filter or an ordering no index serves reads every order and sorts them for each
page (bench/scale.py, docs/performance.md "Data at scale"). The plans are asked with scans and sorts
priced out (erp_testkit.plans): a test's few rows never make the planner pick an index on its own,
and an index removed is a plan without its name.
"""

from __future__ import annotations

import pytest

from erp_testkit.plans import assert_every_parameter_listed, assert_index_serves
from sales.filters import ORDERING_FIELDS, SalesOrderFilter

pytestmark = pytest.mark.django_db

# A query string of the list -> the index its first page and its count are read from (Django names a
# field's db_index: its prefix is enough).
SERVED_BY = {
    "": "sales_salesorder_created_at_",  # newest first
    "customer_id=0b6f3c52-8f55-4a8e-9d59-2a8f1f1c1e01": "sales_order_customer_idx",
    "status=Draft": "sales_salesorder_status_",
    "stock_status=short": "sales_order_stock_status_idx",
    "created_after=2026-01-01T00:00:00Z": "sales_salesorder_created_at_",
    "created_before=2026-01-01T00:00:00Z": "sales_salesorder_created_at_",
    "confirmed_after=2026-01-01T00:00:00Z": "sales_salesorder_confirmed_at_",
    "confirmed_before=2026-01-01T00:00:00Z": "sales_salesorder_confirmed_at_",
    "ordering=created_at": "sales_salesorder_created_at_",
    "ordering=-created_at": "sales_salesorder_created_at_",
    "ordering=updated_at": "sales_order_updated_idx",
    "ordering=-updated_at": "sales_order_updated_idx",
    "ordering=total_amount": "sales_order_total_idx",
    "ordering=-total_amount": "sales_order_total_idx",
    # Four statuses: the page sorts the first status's orders by id (an incremental sort), not every order.
    "ordering=status": "sales_salesorder_status_",
    "ordering=-status": "sales_salesorder_status_",
}
# What no index serves, and why none would.
UNINDEXED = {
    "search": "a word in the customer's name or in any line's SKU (an EXISTS over the lines): staff search "
    "for an order rarely; measured, not indexed (docs/performance.md)",
}


def test_every_filter_and_ordering_is_listed_with_its_index_or_why_none():
    assert_every_parameter_listed(SalesOrderFilter, ORDERING_FIELDS, SERVED_BY, UNINDEXED)


@pytest.mark.parametrize(("query", "index"), SERVED_BY.items())
def test_the_index_serves_it(postgresql, as_admin, query, index):
    assert_index_serves(as_admin, f"/orders?{query}", index, table="sales_salesorder")
