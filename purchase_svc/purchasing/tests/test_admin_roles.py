"""What each role may do in purchase's admin, transcribed by hand from contract §3.

Each service's config/tests/test_platform.py walks every admin and action against the matrix; this pins
the outcome, so a wrong declaration (paying as ``purchase.receive``...) fails here.
"""

import pytest

from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from erp_testkit.admin import ADMIN_ONLY_PAGES, admin_grants

pytestmark = pytest.mark.django_db

ORDERS = "purchasing.purchaseorder"
INLINES = {
    f"{ORDERS} > purchasing.purchaseorderline": {"view"},
    f"{ORDERS} > purchasing.purchasereceipt": {"view"},
    f"{ORDERS} > purchasing.purchaseorderstatuschange": {"view"},
}

# Seeing orders (orders.read), entering drafts and changing their lines (orders.write): IM and FM alike.
ENTRY = {"view", "add", "change"}
# The actions of ``purchase.receive``.
RECEIVING = {"record_receipt", "receive", "close_short"}
# Vendor items: read by every role (orders.read), written by IM and FM (vendor_items.write);
# the items needing a vendor are read only; so are the receipts (their own list, which the home links to).
REPLENISHMENT = {
    "purchasing.vendoritem": {"view", "add", "change", "delete", "delete_selected"},
    "purchasing.lowstockitem": {"view"},
    "purchasing.purchasereceipt": {"view"},
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (INVENTORY_MANAGER, {ORDERS: {*ENTRY, *RECEIVING, "cancel"}, **INLINES, **REPLENISHMENT}),
        (FINANCE_MANAGER, {ORDERS: {*ENTRY, *RECEIVING, "pay", "cancel"}, **INLINES, **REPLENISHMENT}),
        (ADMIN, {ORDERS: {*ENTRY, *RECEIVING, "pay", "cancel"}, **INLINES, **REPLENISHMENT, **ADMIN_ONLY_PAGES}),
        (None, {}),
    ],
)
def test_each_role_may_do_in_the_purchase_admin_what_the_contract_says(role, expected):
    assert admin_grants(role=role) == expected
