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


def test_admin_cannot_deactivate_the_last_active_admin(staff_client):
    # given: the only active admin (the staff superuser has role admin too: make it a finance manager)
    User.objects.filter(email="boss@example.com").update(role="finance_manager")
    last_admin = UserFactory(role="admin")

    # when
    response = staff_client.post(
        f"/admin/accounts/user/{last_admin.pk}/change/", _change_form(last_admin, is_active=""), follow=True
    )

    # then: the page says why, and nothing changed
    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == ["This is the last active admin."]
    last_admin.refresh_from_db()
    assert last_admin.is_active is True


def test_admin_cannot_demote_the_last_active_admin(staff_client):
    # given
    User.objects.filter(email="boss@example.com").update(role="finance_manager")
    last_admin = UserFactory(role="admin")

    # when
    response = staff_client.post(
        f"/admin/accounts/user/{last_admin.pk}/change/", _change_form(last_admin, role="finance_manager"), follow=True
    )

    # then
    assert [str(message) for message in response.context["messages"]] == ["This is the last active admin."]
    last_admin.refresh_from_db()
    assert last_admin.role == "admin"


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
