"""The users admin API (/users): admin only, list/create/change role/deactivate."""

import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from erp_testkit import auth_client

from ..models import User
from ..tokens import token_pair_for_user
from .conftest import client_for
from .factories import PASSWORD, UserFactory
from .helpers import FORBIDDEN, UNAUTHENTICATED, error, field_errors

pytestmark = pytest.mark.django_db


def admin_shape(user: User) -> dict:
    return {
        "id": str(user.id),
        "email": user.email,
        "role": user.role,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": user.updated_at.isoformat().replace("+00:00", "Z"),
    }


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/users"),
        ("post", "/users"),
        ("get", "/users/{id}"),
        ("patch", "/users/{id}"),
        ("post", "/users/{id}/deactivate"),
    ],
)
@pytest.mark.parametrize("caller", ["inventory_manager", "finance_manager", "service", "anonymous"])
def test_users_api_is_admin_only(user, method, path, caller):
    # given
    client = {
        "inventory_manager": lambda: auth_client(role="inventory_manager"),
        "finance_manager": lambda: auth_client(role="finance_manager"),
        "service": lambda: auth_client(token_type="service", user_id="gateway"),
        "anonymous": APIClient,
    }[caller]()
    body = {"role": "admin", "email": "x@example.com", "password": PASSWORD}

    # when
    response = getattr(client, method)(path.format(id=user.id), body, format="json")

    # then
    expected = UNAUTHENTICATED if caller == "anonymous" else FORBIDDEN
    assert response.json() == expected
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.role == "inventory_manager" and user.is_active


# ---------------------------------------------------------------- list


def test_users_list_is_paginated_newest_first(admin_client, admin_user, django_assert_num_queries):
    # given
    users = [UserFactory() for _ in range(3)]

    # when
    with django_assert_num_queries(2):  # count + page; tokens are verified without the database
        response = admin_client.get("/users?limit=2&offset=1")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": 200,
        "message": "OK",
        "data": [admin_shape(users[1]), admin_shape(users[0])],
        "meta": {"total": 4, "limit": 2, "offset": 1},
    }
    assert admin_user.email == "root@example.com"


def test_users_list_searches_and_filters(admin_client, admin_user):
    # given
    UserFactory(email="ann.stock@example.com", role="inventory_manager")
    fin = UserFactory(email="bob.stock@example.com", role="finance_manager")
    UserFactory(email="cy@example.com", role="finance_manager")

    # when
    response = admin_client.get("/users?search=STOCK&role=finance_manager")

    # then
    assert [row["id"] for row in response.json()["data"]] == [str(fin.id)]
    assert response.json()["meta"]["total"] == 1


def test_users_list_rejects_unknown_role_filter(admin_client):
    # when
    response = admin_client.get("/users?role=king")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("role", "Select a valid choice. king is not one of the available choices."))


@pytest.mark.parametrize("value", ["maybe", "no", "2"])
def test_users_list_rejects_an_is_active_it_cannot_read(admin_client, value):
    # when
    response = admin_client.get(f"/users?is_active={value}")

    # then: a 400 naming the parameter, not every user as if no filter had been given
    assert response.status_code == 400
    assert response.json() == field_errors(("is_active", "Must be true or false."))


@pytest.mark.parametrize(
    ("value", "emails"), [("false", ["gone@example.com"]), ("TRUE", ["here@example.com"]), ("", None)]
)
def test_users_list_filters_by_is_active(admin_client, admin_user, value, emails):
    # given
    UserFactory(email="here@example.com")
    UserFactory(email="gone@example.com", is_active=False)

    # when
    response = admin_client.get(f"/users?is_active={value}&search=example.com&ordering=email")

    # then: an empty value filters nothing
    assert response.status_code == 200
    listed = [row["email"] for row in response.json()["data"] if row["email"] != admin_user.email]
    assert listed == (emails or ["gone@example.com", "here@example.com"])


def test_users_retrieve(admin_client, user):
    # when
    response = admin_client.get(f"/users/{user.id}")

    # then
    assert response.json()["data"] == admin_shape(user)


# ---------------------------------------------------------------- create


def test_users_create(admin_client, admin_user):
    # when
    response = admin_client.post(
        "/users", {"email": "New@Example.com", "password": PASSWORD, "role": "finance_manager"}, format="json"
    )

    # then
    assert response.status_code == 201
    created = User.objects.get(email="new@example.com")
    assert response.json() == {"status": 201, "message": "Created", "data": admin_shape(created)}
    assert created.role == "finance_manager" and created.check_password(PASSWORD)


def test_users_create_duplicate_is_conflict(admin_client, user):
    # when
    response = admin_client.post("/users", {"email": user.email, "password": PASSWORD, "role": "admin"}, format="json")

    # then
    message = "A user with this email already exists."
    assert response.status_code == 409
    assert response.json() == error(409, "conflict", message, [{"field": "email", "message": message}])
    assert User.objects.count() == 2


def test_users_create_validates(admin_client, admin_user):
    # when
    response = admin_client.post("/users", {"email": "x@example.com", "password": "abc", "role": "x"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("role", '"x" is not a valid choice.'))
    assert User.objects.count() == 1


# ---------------------------------------------------------------- change role


def test_users_change_role(admin_client, user):
    # when
    response = admin_client.patch(f"/users/{user.id}", {"role": "finance_manager"}, format="json")

    # then
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.role == "finance_manager"
    assert response.json()["data"] == admin_shape(user)


def test_users_change_role_rejects_unknown_role(admin_client, user):
    # when
    response = admin_client.patch(f"/users/{user.id}", {"role": "king"}, format="json")

    # then
    assert response.json() == field_errors(("role", '"king" is not a valid choice.'))
    user.refresh_from_db()
    assert user.role == "inventory_manager"


def test_users_change_role_without_a_role_is_refused_and_changes_nothing(admin_client, user):
    # given: a PATCH validates partially, but the role is all it changes
    updated_at = user.updated_at

    # when
    response = admin_client.patch(f"/users/{user.id}", {}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("role", "This field is required."))
    user.refresh_from_db()
    assert (user.role, user.updated_at) == ("inventory_manager", updated_at)


def test_users_are_never_replaced_with_put(admin_client, user):
    # when
    response = admin_client.put(f"/users/{user.id}", {"role": "admin"}, format="json")

    # then
    assert response.status_code == 405
    user.refresh_from_db()
    assert user.role == "inventory_manager"


def test_users_path_id_must_be_a_uuid(admin_client):
    # when
    response = admin_client.patch("/users/42", {"role": "admin"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == error(
        400, "bad_request", "'42' is not a valid UUID.", [{"field": "id", "message": "Must be a UUID."}]
    )


def test_users_path_id_with_a_dot_is_400_not_a_routing_404(admin_client):
    # when
    response = admin_client.get("/users/a.b")

    # then
    assert response.status_code == 400
    assert response.json() == error(
        400, "bad_request", "'a.b' is not a valid UUID.", [{"field": "id", "message": "Must be a UUID."}]
    )


def test_users_list_orders_by_the_allowed_fields_only(admin_client, admin_user):
    # given
    UserFactory(email="b@example.com")
    UserFactory(email="a@example.com")

    # when
    ordered = admin_client.get("/users?ordering=email")
    unknown = admin_client.get("/users?ordering=password")

    # then
    assert [row["email"] for row in ordered.json()["data"]] == ["a@example.com", "b@example.com", "root@example.com"]
    assert unknown.status_code == 400
    assert [detail["field"] for detail in unknown.json()["error"]["details"]] == ["ordering"]


def test_users_unknown_id_is_404(admin_client):
    # when
    response = admin_client.post(f"/users/{uuid.uuid4()}/deactivate")

    # then
    assert response.status_code == 404
    assert response.json() == error(404, "not_found", "Not found.")


def test_users_cannot_demote_the_last_admin(admin_client, admin_user):
    # when
    response = admin_client.patch(f"/users/{admin_user.id}", {"role": "finance_manager"}, format="json")

    # then
    message = "This is the last active admin."
    assert response.status_code == 409
    assert response.json() == error(409, "conflict", message, [{"field": "role", "message": message}])
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"


def test_users_can_demote_an_admin_when_another_remains(admin_client, admin_user):
    # given
    other = UserFactory(role="admin")

    # when
    response = admin_client.patch(f"/users/{other.id}", {"role": "inventory_manager"}, format="json")

    # then
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.role == "inventory_manager"


# ---------------------------------------------------------------- deactivate


def test_users_deactivate_revokes_refresh_tokens(admin_client, api_client, user):
    # given
    pairs = [token_pair_for_user(user=user) for _ in range(2)]

    # when
    response = admin_client.post(f"/users/{user.id}/deactivate")

    # then
    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.is_active
    assert response.json()["data"] == admin_shape(user)
    assert BlacklistedToken.objects.filter(token__user=user).count() == 2
    for pair in pairs:
        assert api_client.post("/refresh", {"refresh_token": pair.refresh_token}, format="json").status_code == 401
    login = api_client.post("/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert login.status_code == 401


def test_users_deactivate_twice_is_harmless(admin_client, user):
    # given
    admin_client.post(f"/users/{user.id}/deactivate")

    # when
    response = admin_client.post(f"/users/{user.id}/deactivate")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["is_active"] is False


def test_users_cannot_deactivate_the_last_admin(admin_user):
    # when
    response = client_for(admin_user).post(f"/users/{admin_user.id}/deactivate")

    # then
    message = "This is the last active admin."
    assert response.json() == error(409, "conflict", message, [{"field": "is_active", "message": message}])
    admin_user.refresh_from_db()
    assert admin_user.is_active
