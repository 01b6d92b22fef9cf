"""manage.py seed_demo: exactly the documented demo users, idempotently."""

import io

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command

from ..management.commands.seed_demo import DEMO_USERS
from ..models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_users(api_client):
    # when
    call_command("seed_demo", stdout=io.StringIO())

    # then
    assert sorted(User.objects.values_list("email", "role", "is_staff", "is_superuser")) == [
        ("admin@example.com", "admin", True, True),
        ("finance@example.com", "finance_manager", True, False),
        ("inventory@example.com", "inventory_manager", True, False),
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
    User.objects.filter(email="admin@example.com").update(
        role="inventory_manager", is_active=False, is_staff=False, is_superuser=False
    )
    fields = ("id", "email", "role", "is_active", "is_staff", "is_superuser", "password")
    before = sorted(User.objects.values_list(*fields))

    # when
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    # then
    assert sorted(User.objects.values_list(*fields)) == before
    assert "admin@example.com: already there (inventory_manager, inactive), left unchanged" in out.getvalue()


def test_seed_demo_creates_only_the_missing_ones():
    # given
    call_command("seed_demo", stdout=io.StringIO())
    User.objects.filter(email="finance@example.com").delete()
    kept = sorted(User.objects.values_list("id", "password"))

    # when
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    # then
    assert User.objects.filter(email="finance@example.com", role="finance_manager", is_active=True).exists()
    assert sorted(User.objects.exclude(email="finance@example.com").values_list("id", "password")) == kept
    assert "finance@example.com (finance_manager): created" in out.getvalue()
    assert "inventory@example.com: already there (inventory_manager, active), left unchanged" in out.getvalue()
