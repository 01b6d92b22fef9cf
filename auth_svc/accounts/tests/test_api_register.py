"""POST /register: open registration on and off, validation, duplicates."""

import pytest

from erp_testkit import auth_client

from ..models import User
from .factories import PASSWORD
from .helpers import FORBIDDEN, UNAUTHENTICATED, error, field_errors

pytestmark = pytest.mark.django_db


def test_register_open_creates_user_with_chosen_role(api_client, open_registration):
    # when
    response = api_client.post(
        "/register", {"email": " New.User@Example.COM ", "password": PASSWORD, "role": "finance_manager"}, format="json"
    )

    # then
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get()
    assert body == {
        "status": 201,
        "message": "Created",
        "data": {
            "id": str(user.id),
            "email": "new.user@example.com",
            "role": "finance_manager",
            "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": user.updated_at.isoformat().replace("+00:00", "Z"),
        },
    }
    assert user.check_password(PASSWORD)
    # every role is a back-office role: staff, and superuser for admin only (common.sso.staff_flags)
    assert user.is_active and user.is_staff and not user.is_superuser


def test_register_open_ignores_stale_token_header(api_client, open_registration):
    # given
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    # when
    response = api_client.post("/register", {"email": "a@example.com", "password": PASSWORD, "role": "finance_manager"})

    # then
    assert response.status_code == 201
    assert User.objects.get().role == "finance_manager"


def test_register_duplicate_email_is_conflict(api_client, open_registration, user):
    # when
    response = api_client.post(
        "/register", {"email": user.email.upper(), "password": PASSWORD, "role": "finance_manager"}, format="json"
    )

    # then
    assert response.status_code == 409
    message = "A user with this email already exists."
    assert response.json() == error(409, "conflict", message, [{"field": "email", "message": message}])
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.role == "inventory_manager"


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("Ab1!", ["This password is too short. It must contain at least 8 characters."]),
        ("password123", ["This password is too common."]),
        ("12345678", ["This password is too common.", "This password is entirely numeric."]),
    ],
)
def test_register_rejects_weak_password(api_client, open_registration, password, messages):
    # when
    response = api_client.post(
        "/register", {"email": "weak@example.com", "password": password, "role": "finance_manager"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(*[("password", message) for message in messages])
    assert User.objects.count() == 0


def test_register_rejects_password_like_the_email(api_client, open_registration):
    # when
    response = api_client.post(
        "/register",
        {"email": "margaretha@example.com", "password": "margaretha", "role": "inventory_manager"},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("password", "The password is too similar to the email."))
    assert User.objects.count() == 0


def test_register_validates_every_field(api_client, open_registration):
    # when
    missing = api_client.post("/register", {}, format="json")
    malformed = api_client.post(
        "/register", {"email": "nope", "password": PASSWORD, "role": "superuser"}, format="json"
    )

    # then
    assert missing.status_code == 400
    assert missing.json() == field_errors(
        ("email", "This field is required."),
        ("password", "This field is required."),
        ("role", "This field is required."),
    )
    assert malformed.json() == field_errors(
        ("email", "Enter a valid email address."), ("role", '"superuser" is not a valid choice.')
    )
    assert User.objects.count() == 0


def test_register_closed_refuses_anonymous(api_client, closed_registration):
    # when
    response = api_client.post("/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"})

    # then
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert User.objects.count() == 0


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager"])
def test_register_closed_refuses_non_admin(closed_registration, role):
    # given
    client = auth_client(role=role)

    # when
    response = client.post("/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"})

    # then
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert User.objects.count() == 0


def test_register_closed_refuses_service_token(closed_registration, service_client):
    # when
    response = service_client.post("/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"})

    # then
    assert response.status_code == 403
    assert User.objects.count() == 0


def test_register_closed_refuses_invalid_token(api_client, closed_registration):
    # given
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    # when
    response = api_client.post("/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"})

    # then
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
    assert User.objects.count() == 0


def test_register_closed_allows_admin(closed_registration, admin_client):
    # when
    response = admin_client.post(
        "/register", {"email": "b@example.com", "password": PASSWORD, "role": "finance_manager"}, format="json"
    )

    # then
    assert response.status_code == 201
    assert User.objects.get(email="b@example.com").role == "finance_manager"


# ------------------------------------------------ open registration: admin is never self-service


def test_register_open_refuses_anonymous_admin(api_client, open_registration):
    # when
    response = api_client.post(
        "/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"}, format="json"
    )

    # then
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert User.objects.count() == 0


def test_register_open_refuses_admin_with_an_invalid_token(api_client, open_registration):
    # given
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    # when
    response = api_client.post(
        "/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"}, format="json"
    )

    # then
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
    assert User.objects.count() == 0


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager"])
def test_register_open_refuses_admin_to_a_non_admin_token(open_registration, role):
    # given
    client = auth_client(role=role)

    # when
    response = client.post("/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"})

    # then
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert User.objects.count() == 0


def test_register_open_refuses_admin_to_a_service_token(open_registration, service_client):
    # when
    response = service_client.post("/register", {"email": "a@example.com", "password": PASSWORD, "role": "admin"})

    # then
    assert response.status_code == 403
    assert User.objects.count() == 0


def test_register_open_refuses_admin_before_validating_the_rest(api_client, open_registration):
    # when: a weak password would be a 400, but the role is checked first
    response = api_client.post("/register", {"email": "a@example.com", "password": "x", "role": "admin"}, format="json")

    # then
    assert response.status_code == 401
    assert User.objects.count() == 0


def test_register_open_allows_admin_to_an_admin_token(open_registration, admin_client):
    # when
    response = admin_client.post(
        "/register", {"email": "b@example.com", "password": PASSWORD, "role": "admin"}, format="json"
    )

    # then
    assert response.status_code == 201
    assert User.objects.get(email="b@example.com").role == "admin"


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager"])
def test_register_open_lets_anonymous_choose_a_manager_role(api_client, open_registration, role):
    # when
    response = api_client.post("/register", {"email": "m@example.com", "password": PASSWORD, "role": role})

    # then
    assert response.status_code == 201
    assert User.objects.get().role == role


def test_register_open_missing_role_is_a_validation_error_not_401(api_client, open_registration):
    # when
    response = api_client.post("/register", {"email": "m@example.com", "password": PASSWORD}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("role", "This field is required."))
    assert User.objects.count() == 0
