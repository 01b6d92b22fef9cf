"""The Django admin for users: list, search, filter, add, change password."""

import pytest
from django.test import Client

from ..models import User
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
