"""What each role may do in sales' admin, transcribed by hand from contract §3.

Each service's config/tests/test_platform.py walks every admin and action against the matrix; this pins
the outcome, so a wrong declaration (confirming as ``orders.write``...) fails here.
"""

import pytest

from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from erp_testkit.admin import ADMIN_ONLY_PAGES, admin_grants

pytestmark = pytest.mark.django_db

ORDERS = "sales.salesorder"
# Seeing orders (orders.read), entering drafts and changing their lines (orders.write): IM and FM alike.
ENTRY = {"view", "add", "change"}
INLINES = {f"{ORDERS} > sales.salesorderline": {"view"}, f"{ORDERS} > sales.salesorderstatuschange": {"view"}}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (INVENTORY_MANAGER, {ORDERS: ENTRY, **INLINES}),
        (FINANCE_MANAGER, {ORDERS: {*ENTRY, "confirm", "pay", "cancel"}, **INLINES}),
        (ADMIN, {ORDERS: {*ENTRY, "confirm", "pay", "cancel"}, **INLINES, **ADMIN_ONLY_PAGES}),
        (None, {}),
    ],
)
def test_each_role_may_do_in_the_sales_admin_what_the_contract_says(role, expected):
    assert admin_grants(role=role) == expected
