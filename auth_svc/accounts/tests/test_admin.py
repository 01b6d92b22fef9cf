"""The Django admin for users: list, search, filter, add, change password, all through the services."""

import pytest
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from ..models import User
from ..tokens import token_pair_for_user
from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    superuser = User.objects.create_superuser("boss@example.com", PASSWORD)
    client = Client()
    client.force_login(superuser)
    return client


def test_admin_lists_searches_and_filters_users(staff_client):
    # given
    UserFactory(email="ann@example.com", role="finance_manager")
    UserFactory(email="bob@example.com", role="inventory_manager")

    # when
    listing = staff_client.get("/admin/accounts/user/")
    searched = staff_client.get("/admin/accounts/user/?q=ann")
    filtered = staff_client.get("/admin/accounts/user/?role__exact=inventory_manager&is_active__exact=1")

    # then
    assert listing.status_code == 200
    for column in (b"column-email", b"column-role", b"column-is_active", b"column-created_at"):
        assert column in listing.content
    assert b"ann@example.com" in searched.content and b"bob@example.com" not in searched.content
    assert b"bob@example.com" in filtered.content and b"ann@example.com" not in filtered.content


def test_admin_adds_a_user_with_email_and_role(staff_client):
    # when
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {"email": "New@Example.com", "role": "finance_manager", "password1": PASSWORD, "password2": PASSWORD},
    )

    # then
    assert response.status_code == 302, response.content
    user = User.objects.get(email="new@example.com")
    assert user.role == "finance_manager" and user.check_password(PASSWORD)


def test_admin_changes_a_password_through_the_standard_form(staff_client):
    # given
    user = UserFactory()

    # when
    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "Brand-New-Passw0rd", "password2": "Brand-New-Passw0rd"},
    )

    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-New-Passw0rd")


def test_admin_login_with_email_in_any_case():
    # given
    User.objects.create_superuser("boss@example.com", PASSWORD)

    # when
    response = Client().post("/admin/login/?next=/admin/", {"username": "BOSS@example.com", "password": PASSWORD})

    # then
    assert response.status_code == 302


def _change_form(user: User, **changes) -> dict:
    """The change form as the admin page posts it, with ``changes`` applied."""
    data = {"email": user.email, "role": user.role, "is_active": "on" if user.is_active else ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_admin_deactivation_revokes_the_users_refresh_tokens(staff_client):
    # given: a user with a live refresh token
    user = UserFactory(role="finance_manager")
    pair = token_pair_for_user(user=user)

    # when
    response = staff_client.post(f"/admin/accounts/user/{user.pk}/change/", _change_form(user, is_active=""))

    # then
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.is_active is False
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(pair.refresh_token, verify=False)["jti"]).exists()


def _boss() -> User:
    return User.objects.get(email="boss@example.com")


def test_admin_cannot_deactivate_the_last_active_admin(staff_client):
    # given: the staff member is the only active admin, and deactivates their own account
    boss = _boss()

    # when
    response = staff_client.post(
        f"/admin/accounts/user/{boss.pk}/change/", _change_form(boss, is_active=""), follow=True
    )

    # then: the page says why, and nothing changed
    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == ["This is the last active admin."]
    boss.refresh_from_db()
    assert boss.is_active is True


def test_admin_cannot_demote_the_last_active_admin(staff_client):
    # given
    boss = _boss()

    # when
    response = staff_client.post(
        f"/admin/accounts/user/{boss.pk}/change/", _change_form(boss, role="finance_manager"), follow=True
    )

    # then
    assert [str(message) for message in response.context["messages"]] == ["This is the last active admin."]
    boss.refresh_from_db()
    assert boss.role == "admin"


def test_admin_flags_are_shown_not_edited(staff_client):
    # given
    user = UserFactory(role="finance_manager")

    # when: the admin flags smuggled into the change form
    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/change/", _change_form(user, is_superuser="on", is_staff="on")
    )

    # then: saved, but the flags follow the role, not the form
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert (user.is_superuser, user.is_staff) == (False, False)
    page = staff_client.get(f"/admin/accounts/user/{user.pk}/change/").content
    assert b'name="is_superuser"' not in page and b'name="is_staff"' not in page


def test_deactivate_action_goes_through_the_service_and_revokes_tokens(staff_client):
    # given
    first, second = UserFactory(role="finance_manager"), UserFactory(role="inventory_manager")
    pair = token_pair_for_user(user=first)

    # when
    response = staff_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [str(first.pk), str(second.pk)]},
        follow=True,
    )

    # then
    assert [str(message) for message in response.context["messages"]] == ["Deactivated 2 user(s)."]
    assert set(User.objects.filter(pk__in=[first.pk, second.pk]).values_list("is_active", flat=True)) == {False}
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(pair.refresh_token, verify=False)["jti"]).exists()


def test_deactivate_action_refuses_the_last_admin_with_a_message(staff_client):
    # given: the only active admin selected beside another user
    boss, other = _boss(), UserFactory(role="finance_manager")

    # when
    response = staff_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [str(boss.pk), str(other.pk)]},
        follow=True,
    )

    # then: the other is deactivated, the admin is not, and the page says why
    messages = [str(message) for message in response.context["messages"]]
    assert "boss@example.com: This is the last active admin." in messages
    assert "Deactivated 1 user(s)." in messages
    boss.refresh_from_db()
    other.refresh_from_db()
    assert (boss.is_active, other.is_active) == (True, False)


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager"])
def test_user_management_is_for_admins_only(staff_login, role):
    # given
    client = staff_login(role)
    target = UserFactory(role="inventory_manager")

    # when
    index = client.get("/admin/")
    listing = client.get("/admin/accounts/user/")
    change = client.post(f"/admin/accounts/user/{target.pk}/change/", _change_form(target, role="admin"))
    action = client.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [str(target.pk)]})

    # then
    assert index.status_code == 200 and b"/admin/accounts/user/" not in index.content
    assert (listing.status_code, change.status_code) == (403, 403)
    assert action.status_code == 403
    target.refresh_from_db()
    assert (target.role, target.is_active) == ("inventory_manager", True)


def test_a_demoted_admin_with_a_stale_superuser_flag_manages_no_users():
    # given: an account whose role was taken away while its is_superuser stayed set
    demoted = User.objects.create_superuser("former@example.com", PASSWORD)
    User.objects.filter(pk=demoted.pk).update(role="finance_manager")
    client = Client()
    client.force_login(User.objects.get(pk=demoted.pk))

    # when
    response = client.get("/admin/accounts/user/")

    # then: the role decides
    assert response.status_code == 403


def test_admin_password_change_revokes_the_old_sessions(staff_client):
    # given
    user = UserFactory()
    pair = token_pair_for_user(user=user)

    # when
    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "Brand-New-Passw0rd", "password2": "Brand-New-Passw0rd"},
    )

    # then
    assert response.status_code == 302
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(pair.refresh_token, verify=False)["jti"]).exists()


def test_admin_offers_no_deletion(staff_client):
    # given
    user = UserFactory()

    # when
    response = staff_client.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})

    # then
    assert response.status_code == 403
    assert User.objects.filter(pk=user.pk).exists()
