"""What a sign-in's claims say about a member of staff (common.sso.claims)."""

import pytest

from common.sso.claims import ClaimsRefused, StaffClaims, staff_claims


@pytest.mark.parametrize(
    ("claims", "role_claim", "role"),
    [
        ({"role": "inventory_manager"}, "role", "inventory_manager"),
        ({"role": "finance_manager"}, "role", "finance_manager"),
        ({"role": "admin"}, "role", "admin"),
        ({"role": "superhero"}, "role", None),
        ({}, "role", None),
        ({"role": ["viewer", "finance_manager"]}, "role", "finance_manager"),
        ({"roles": ["inventory_manager", "admin", "finance_manager"]}, "roles", "admin"),
        (
            {"realm_access": {"roles": ["offline_access", "inventory_manager"]}},
            "realm_access.roles",
            "inventory_manager",
        ),
        ({"realm_access": "inventory_manager"}, "realm_access.roles", None),
        ({"role": {"name": "admin"}}, "role", None),
        ({"role": [{"name": "admin"}, ["admin"], "inventory_manager"]}, "role", "inventory_manager"),
    ],
    ids=[
        "im",
        "fm",
        "admin",
        "unknown",
        "absent",
        "list",
        "most-powerful",
        "dotted",
        "not-nested",
        "object",
        "objects-in-a-list",
    ],
)
def test_the_role_comes_from_the_configured_claim_platform_names_only(claims, role_claim, role):
    # when
    result = staff_claims({"email": "ann@example.com", **claims}, role_claim=role_claim)

    # then
    assert result.role == role


def test_email_is_lower_cased_and_a_valid_time_zone_kept():
    # when
    result = staff_claims(
        {"email": " Ann@Example.COM ", "role": "admin", "zoneinfo": "Europe/Berlin"}, role_claim="role"
    )

    # then
    assert result == StaffClaims(email="ann@example.com", role="admin", zoneinfo="Europe/Berlin")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", 42, "../../etc/passwd"])
def test_an_unknown_time_zone_is_dropped(zone):
    assert staff_claims({"email": "a@example.com", "zoneinfo": zone}, role_claim="role").zoneinfo is None


@pytest.mark.parametrize("claims", [{}, {"email": ""}, {"email": "not-an-email"}, {"email": ["a@example.com"]}])
def test_claims_without_an_email_identify_nobody(claims):
    with pytest.raises(ClaimsRefused):
        staff_claims({**claims, "role": "admin"}, role_claim="role")


@pytest.mark.parametrize("claims", [[], ["email", "a@example.com"], "a@example.com", None, 42])
def test_claims_that_are_not_an_object_identify_nobody(claims):
    # (a provider's userinfo answer is JSON, but not always an object)
    with pytest.raises(ClaimsRefused):
        staff_claims(claims, role_claim="role")
