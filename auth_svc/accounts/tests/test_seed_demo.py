"""manage.py seed_demo: exactly the documented demo users, idempotently."""

import io

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command

from erp_testkit.compat import POSTMAN_EMAILS

from ..management.commands.seed_demo import DEMO_USERS
from ..models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_users(api_client):
    # when
    call_command("seed_demo", stdout=io.StringIO())

    # then
    assert sorted(User.objects.values_list("email", "role", "is_staff", "is_superuser")) == [
        ("admin@demo.example", "admin", True, True),
        ("finance@demo.example", "finance_manager", True, False),
        ("inventory@demo.example", "inventory_manager", True, False),
    ]
    for email, password, _ in DEMO_USERS:
        validate_password(password, user=User.objects.get(email=email))
        response = api_client.post("/login", {"email": email, "password": password}, format="json")
        assert response.status_code == 200


def test_seed_demo_is_idempotent():
    # given
    call_command("seed_demo", stdout=io.StringIO())
    before = sorted(User.objects.values_list("id", "email", "role", "password"))

    # when
    call_command("seed_demo", stdout=io.StringIO())

    # then
    assert sorted(User.objects.values_list("id", "email", "role", "password")) == before


def test_seed_demo_never_changes_an_existing_demo_user():
    # given: an operator deactivated and demoted the demo admin
    call_command("seed_demo", stdout=io.StringIO())
    User.objects.filter(email="admin@demo.example").update(
        role="inventory_manager", is_active=False, is_staff=False, is_superuser=False
    )
    fields = ("id", "email", "role", "is_active", "is_staff", "is_superuser", "password")
    before = sorted(User.objects.values_list(*fields))

    # when
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    # then
    assert sorted(User.objects.values_list(*fields)) == before
    assert "admin@demo.example: already there (inventory_manager, inactive), left unchanged" in out.getvalue()


def test_seed_demo_creates_only_the_missing_ones():
    # given
    call_command("seed_demo", stdout=io.StringIO())
    User.objects.filter(email="finance@demo.example").delete()
    kept = sorted(User.objects.values_list("id", "password"))

    # when
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    # then
    assert User.objects.filter(email="finance@demo.example", role="finance_manager", is_active=True).exists()
    assert sorted(User.objects.exclude(email="finance@demo.example").values_list("id", "password")) == kept
    assert "finance@demo.example (finance_manager): created" in out.getvalue()
    assert "inventory@demo.example: already there (inventory_manager, active), left unchanged" in out.getvalue()


def test_demo_users_take_no_email_of_the_original_postman_collection():
    # then: its Register User (finance@example.com) works on a fresh local run
    assert POSTMAN_EMAILS.isdisjoint(email for email, _, _ in DEMO_USERS)
