"""The local staff user kept in step with the platform account (common.sso.staff)."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import SuspiciousOperation

from common.sso.claims import StaffClaims
from common.sso.staff import staff_user_lapse, staff_user_sync

pytestmark = pytest.mark.django_db


def _sync(role, email="ann@example.com"):
    return staff_user_sync(claims=StaffClaims(email=email, role=role, zoneinfo=None))


def _state(email="ann@example.com"):
    user = User.objects.get(email=email)
    return (user.is_active, user.is_staff, user.is_superuser, sorted(user.groups.values_list("name", flat=True)))


def test_a_first_sign_in_makes_a_staff_user_without_a_password_in_its_role_group():
    # when
    user = _sync("inventory_manager")

    # then
    assert user is not None and (user.username, user.email) == ("ann@example.com", "ann@example.com")
    assert not user.has_usable_password()
    assert _state() == (True, True, False, ["inventory_manager"])
    assert User.objects.count() == 1


def test_admin_is_a_superuser_in_no_group():
    _sync("admin")
    assert _state() == (True, True, True, [])


def test_a_demoted_admin_is_no_superuser_any_more():
    # given
    _sync("admin")

    # when
    user = _sync("inventory_manager")

    # then
    assert user is not None
    assert _state() == (True, True, False, ["inventory_manager"])


def test_a_role_change_leaves_exactly_the_new_role_group():
    # given: an IM, also put by hand in another group
    user = _sync("inventory_manager")
    user.groups.add(Group.objects.create(name="hand-made"))

    # when
    _sync("finance_manager")

    # then
    assert _state() == (True, True, False, ["finance_manager"])


def test_an_account_that_lost_its_role_keeps_its_row_but_no_access():
    # given
    _sync("finance_manager")

    # when
    user = _sync(None)

    # then
    assert user is None
    assert _state() == (True, False, False, [])


def test_an_account_without_a_role_never_gets_a_row():
    assert _sync(None) is None
    assert User.objects.count() == 0


def test_a_lapsed_user_is_inactive_until_it_signs_in_again():
    # given
    user = _sync("inventory_manager")

    # when
    staff_user_lapse(user=user)

    # then
    assert _state()[0] is False
    assert _sync("inventory_manager") is not None
    assert _state() == (True, True, False, ["inventory_manager"])


def test_the_email_matches_whatever_its_case():
    # given
    User.objects.create(username="legacy", email="Ann@Example.com")

    # when
    user = _sync("finance_manager")

    # then
    assert user.username == "legacy" and user.email == "ann@example.com"
    assert User.objects.count() == 1


def test_two_local_users_with_the_account_s_email_refuse_the_sign_in():
    # given
    User.objects.create(username="one", email="ann@example.com")
    User.objects.create(username="two", email="ANN@example.com")

    # when / then
    with pytest.raises(SuspiciousOperation):
        _sync("admin")
    assert not User.objects.filter(is_superuser=True).exists()


def test_a_long_email_gets_a_username_that_fits():
    email = f"{'a' * 200}@example.com"
    user = _sync("inventory_manager", email=email)
    assert len(user.username) <= 150 and user.email == email


def test_the_recheck_leaves_a_request_without_a_session_cookie_alone():
    # given: an API request (a bearer token, no session cookie) whose user must not be looked up
    from django.test import RequestFactory
    from django.utils.functional import SimpleLazyObject

    from common.sso.middleware import StaffRecheckMiddleware

    request = RequestFactory().get("/widgets", HTTP_AUTHORIZATION="Bearer x")
    request.user = SimpleLazyObject(lambda: pytest.fail("the user was looked up"))
    answered = object()

    # when
    response = StaffRecheckMiddleware(lambda request: answered)(request)

    # then
    assert response is answered
