"""What each role may do in inventory's admin, transcribed by hand from contract §3.

Each service's config/tests/test_platform.py walks every admin and action against the matrix; this pins
the outcome, so a wrong declaration (adjusting stock as ``items.write``...) fails here.
"""

import pytest

from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from erp_testkit.admin import ADMIN_ONLY_PAGES, admin_grants

pytestmark = pytest.mark.django_db

LEDGER = {"inventory.stockmovement": {"view"}, "inventory.backorder": {"view"}}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (INVENTORY_MANAGER, {"inventory.item": {"view", "add", "change", "adjust_stock", "export_csv"}, **LEDGER}),
        (
            FINANCE_MANAGER,
            {"inventory.item": {"view", "add", "change", "delete", "delete_selected", "export_csv"}, **LEDGER},
        ),
        (
            ADMIN,
            {
                "inventory.item": {"view", "add", "change", "delete", "delete_selected", "adjust_stock", "export_csv"},
                **LEDGER,
                **ADMIN_ONLY_PAGES,
            },
        ),
        (None, {}),
    ],
)
def test_each_role_may_do_in_the_inventory_admin_what_the_contract_says(role, expected):
    assert admin_grants(role=role) == expected
