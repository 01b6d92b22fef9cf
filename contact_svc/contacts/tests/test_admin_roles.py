"""What each role may do in contact's admin, transcribed by hand from contract §3.

Each service's config/tests/test_platform.py walks every admin and action against the matrix; this pins
the outcome, so a wrong declaration fails here.
"""

import pytest

from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from erp_testkit.admin import ADMIN_ONLY_PAGES, admin_grants

pytestmark = pytest.mark.django_db

EDIT = {"view", "add", "change", "export_csv"}
DELETE = {"delete", "delete_selected"}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (INVENTORY_MANAGER, {"contacts.customer": EDIT, "contacts.vendor": EDIT}),
        (FINANCE_MANAGER, {"contacts.customer": EDIT | DELETE, "contacts.vendor": EDIT | DELETE}),
        (ADMIN, {"contacts.customer": EDIT | DELETE, "contacts.vendor": EDIT | DELETE, **ADMIN_ONLY_PAGES}),
        (None, {}),
    ],
)
def test_each_role_may_do_in_the_contact_admin_what_the_contract_says(role, expected):
    assert admin_grants(role=role) == expected
