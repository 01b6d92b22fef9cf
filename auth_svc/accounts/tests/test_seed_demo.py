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
        ("finance@example.com", "finance_manager", False, False),
        ("inventory@example.com", "inventory_manager", False, False),
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
