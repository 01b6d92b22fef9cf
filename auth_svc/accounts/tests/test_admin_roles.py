"""What each role may do in auth's admin, transcribed by hand from contract §3: users are admin only.

Each service's config/tests/test_platform.py walks every admin and action against the matrix; this pins
the outcome. Users are never deleted, tokens never edited (a deleted revocation would
revive a token).
"""

import pytest

from common.admin import role_of
from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from erp_testkit.admin import JOBS_ADMIN_PAGES, admin_grants

from ..models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (INVENTORY_MANAGER, {}),
        (FINANCE_MANAGER, {}),
        (
            ADMIN,
            {
                "accounts.user": {"view", "add", "change", "deactivate"},
                "auth.group": {"view"},
                "token_blacklist.blacklistedtoken": {"view"},
                "token_blacklist.outstandingtoken": {"view"},
                # the OIDC provider's records (accounts.sso.admin): read-only
                "oauth2_provider.accesstoken": {"view"},
                "oauth2_provider.application": {"view"},
                "oauth2_provider.grant": {"view"},
                "oauth2_provider.idtoken": {"view"},
                "oauth2_provider.refreshtoken": {"view"},
                **JOBS_ADMIN_PAGES,
            },
        ),
        (None, {}),
    ],
)
def test_each_role_may_do_in_the_auth_admin_what_the_contract_says(role, expected):
    assert admin_grants(role=role) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"role": FINANCE_MANAGER}, FINANCE_MANAGER),
        ({"role": ADMIN}, ADMIN),
        # The platform account carries the role: a stale is_superuser does not outrank it.
        ({"role": INVENTORY_MANAGER, "is_superuser": True}, INVENTORY_MANAGER),
        ({"role": ADMIN, "is_active": False}, None),
        ({"role": "superuser"}, None),
    ],
)
def test_role_of_a_platform_account_is_its_role(fields, expected):
    assert role_of(User(email="someone@example.com", is_staff=True, **fields)) == expected
