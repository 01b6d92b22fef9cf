"""The services called directly: what the API tests cannot reach or pin down as precisely."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from common.db import unique_conflict
from common.exceptions import Conflict, Unauthorized, ValidationFailed

from .. import services
from ..models import User
from ..tokens import token_pair_for_user
from .conftest import SERVICE_SECRET
from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_user_create_normalises_email_and_hashes_password():
    # when
    user = services.user_create(email="  Mixed.Case@Example.COM", password=PASSWORD, role="admin")

    # then
    assert user.email == "mixed.case@example.com"
    assert user.password != PASSWORD and user.check_password(PASSWORD)


def test_user_create_refuses_duplicate_whatever_the_case():
    # given
    UserFactory(email="taken@example.com")

    # when
    with pytest.raises(Conflict):
        services.user_create(email="TAKEN@example.com", password=PASSWORD, role="admin")

    # then
    assert User.objects.count() == 1


def test_user_create_names_the_password_field():
    # when
    with pytest.raises(ValidationFailed) as raised:
        services.user_create(email="a@example.com", password="short", role="admin")

    # then
    assert {detail["field"] for detail in raised.value.details} == {"password"}
    assert User.objects.count() == 0


def test_token_pair_records_the_issued_refresh_token(user):
    # when
    pair = token_pair_for_user(user=user)

    # then
    outstanding = OutstandingToken.objects.get()
    assert outstanding.user == user
    assert outstanding.token == pair.refresh_token


def test_user_refresh_tokens_revoke_counts_only_live_tokens(user, finance_user):
    # given
    token_pair_for_user(user=user)
    token_pair_for_user(user=user)
    token_pair_for_user(user=finance_user)
    assert services.user_refresh_tokens_revoke(user=user) == 2

    # when
    again = services.user_refresh_tokens_revoke(user=user)

    # then
    assert again == 0
    assert BlacklistedToken.objects.count() == 2
    assert not BlacklistedToken.objects.filter(token__user=finance_user).exists()


def test_service_token_issue_needs_a_configured_service(settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "SERVICE_SECRETS": {}}

    # when / then
    with pytest.raises(Unauthorized):
        services.service_token_issue(service_name="contact", service_secret=SERVICE_SECRET)


def test_auth_login_is_case_insensitive_on_email(user):
    # when
    logged_in, pair = services.auth_login(email="Ivy@Example.com", password=PASSWORD, client_ip="127.0.0.1")

    # then
    assert logged_in == user
    assert pair.token_type == "Bearer"


def test_user_model_lowercases_email_on_clean():
    # given
    user = User(email="Ann@Example.COM", role="admin")

    # when
    user.clean()

    # then
    assert user.email == "ann@example.com"


def test_manager_create_superuser_is_an_admin():
    # when
    user = User.objects.create_superuser("Boss@Example.com", PASSWORD)

    # then
    assert (user.email, user.role, user.is_staff, user.is_superuser) == ("boss@example.com", "admin", True, True)


@pytest.mark.parametrize(
    "change", [{"password": "reset-meanwhile"}, {"is_active": False}], ids=["password-reset", "deactivated"]
)
def test_auth_login_mints_nothing_if_the_user_changed_after_the_password_check(user, monkeypatch, change):
    # given: a reset or deactivation commits between authenticate() and minting
    real = services.authenticate

    def authenticate_then_change(**credentials):
        found = real(**credentials)
        User.objects.filter(pk=found.pk).update(**change)
        return found

    monkeypatch.setattr(services, "authenticate", authenticate_then_change)

    # when
    with pytest.raises(Unauthorized):
        services.auth_login(email=user.email, password=PASSWORD, client_ip="127.0.0.1")

    # then
    assert not OutstandingToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None


def test_a_duplicate_email_past_the_check_is_a_conflict_by_constraint_name(user):
    # given: a row the pre-check did not see (a concurrent insert), so the database refuses it
    duplicate = User(email=user.email)

    # when
    with pytest.raises(Conflict) as raised, unique_conflict(*services.EMAIL_UNIQUE, field="email", message="taken"):
        duplicate.save(force_insert=True)

    # then
    assert raised.value.details == [{"field": "email", "message": "taken"}]
    assert User.objects.filter(email=user.email).count() == 1


def test_another_integrity_error_is_not_taken_for_a_duplicate(db):
    # given: a row the check constraint on role refuses
    from django.db import IntegrityError

    # when / then
    with pytest.raises(IntegrityError), unique_conflict(*services.EMAIL_UNIQUE, field="email", message="taken"):
        User(email="new@example.com", role="king").save(force_insert=True)
    assert not User.objects.exists()
