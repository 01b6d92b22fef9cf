"""The contact API over HTTP, for customers and vendors alike: envelope, roles, errors."""

from __future__ import annotations

import uuid

import pytest

from erp_testkit import auth_client

pytestmark = pytest.mark.django_db

NEW = {"name": "Acme Ltd", "email": "Sales@Acme.Example", "phone": "+1 555 0100", "address": "1 Main St"}


def snapshot(kind):
    return list(kind.model.objects.order_by("id").values())


def body(contact) -> dict:
    return {
        "id": str(contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "address": contact.address,
        "active": contact.active,
        "created_at": contact.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": contact.updated_at.isoformat().replace("+00:00", "Z"),
    }


# --- create ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager", "admin"])
def test_create_returns_201_and_lower_cases_email(kind, url, role):
    # when
    response = auth_client(role).post(url(), NEW, format="json")

    # then
    assert response.status_code == 201, response.content
    payload = response.json()
    contact = kind.model.objects.get()
    assert payload == {"status": 201, "message": "Created", "data": body(contact)}
    assert (contact.name, contact.email, contact.phone, contact.address) == (
        "Acme Ltd",
        "sales@acme.example",
        "+1 555 0100",
        "1 Main St",
    )


def test_create_defaults_phone_and_address_to_blank(kind, url, as_admin):
    # when
    response = as_admin.post(url(), {"name": "Solo", "email": "solo@example.com"}, format="json")

    # then
    assert response.status_code == 201
    assert response.json()["data"]["phone"] == ""
    assert response.json()["data"]["address"] == ""


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@example.com"}, "name"),
        ({"name": "", "email": "a@example.com"}, "name"),
        ({"name": "   ", "email": "a@example.com"}, "name"),
        ({"name": "x" * 256, "email": "a@example.com"}, "name"),
        ({"name": "A"}, "email"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "email": "a@example.com", "phone": "1" * 51}, "phone"),
        ({"name": "A", "email": "a@example.com", "address": "x" * 501}, "address"),
        ({"name": "A", "email": "a@example.com", "phone": None}, "phone"),
    ],
)
def test_create_invalid_is_400_naming_the_field_and_writes_nothing(kind, url, as_admin, outbox, payload, field):
    # when
    response = as_admin.post(url(), payload, format="json")

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "validation"
    assert [detail["field"] for detail in error["details"]] == [field]
    assert not kind.model.objects.exists()
    assert outbox() == []


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@Example.COM", " taken@example.com "])
def test_create_duplicate_email_is_409_in_any_case(kind, url, make, as_admin, outbox, email):
    # given
    make(email="taken@example.com")
    before = snapshot(kind)

    # when
    response = as_admin.post(url(), {"name": "Other", "email": email}, format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "error": {
            "type": "conflict",
            "message": f"A {kind.name} with this email already exists.",
            "details": [{"field": "email", "message": f"A {kind.name} with this email already exists."}],
        },
    }
    assert snapshot(kind) == before
    assert outbox() == []


def test_same_email_may_be_a_customer_and_a_vendor(as_admin):
    # given
    assert as_admin.post("/customers", NEW, format="json").status_code == 201

    # when
    response = as_admin.post("/vendors", NEW, format="json")

    # then
    assert response.status_code == 201


def test_create_malformed_json_is_400_bad_request(kind, url, as_admin):
    # when
    response = as_admin.post(url(), "{not json", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "bad_request"
    assert not kind.model.objects.exists()


def test_create_replays_with_the_same_idempotency_key(kind, url, as_admin, outbox):
    # given
    first = as_admin.post(url(), NEW, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # when
    retry = as_admin.post(url(), NEW, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # then
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert kind.model.objects.count() == 1
    assert len(outbox()) == 1


def test_idempotency_key_with_another_body_is_409(kind, url, as_admin):
    # given
    as_admin.post(url(), NEW, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    before = snapshot(kind)

    # when
    response = as_admin.post(url(), {**NEW, "name": "Changed"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    assert snapshot(kind) == before


# --- retrieve ---------------------------------------------------------------------------


def test_retrieve_returns_the_contact(kind, url, make, as_im):
    # given
    contact = make()

    # when
    response = as_im.get(url(contact.id))

    # then
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "OK", "data": body(contact)}


def test_retrieve_reads_by_id_alone_ignoring_the_lists_parameters(kind, url, make, as_im):
    # given: an archived contact, and list parameters that would leave it out of a list (contract §2)
    contact = make(active=False)

    # when
    response = as_im.get(url(contact.id), {"active": "true", "search": "nothing like it", "ordering": "nope"})

    # then: the parameters are ignored on a read by id
    assert response.status_code == 200
    assert response.json()["data"] == body(contact)


def test_retrieve_unknown_id_is_404(url, as_admin):
    # when
    response = as_admin.get(url(uuid.uuid4()))

    # then
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("bad_id", ["123", "not-a-uuid", "a.b"])
def test_non_uuid_id_is_400_bad_request(kind, url, make, as_admin, method, bad_id):
    # given
    make()
    before = snapshot(kind)

    # when
    response = getattr(as_admin, method)(url(bad_id), {"name": "X", "email": "x@example.com"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "bad_request"
    assert response.json()["error"]["details"] == [{"field": "id", "message": "Must be a UUID."}]
    assert snapshot(kind) == before


# --- update -----------------------------------------------------------------------------


def test_put_replaces_every_field(kind, url, make, as_im):
    # given
    contact = make(phone="+1 555 0001", address="Old Street 1")

    # when
    response = as_im.put(url(contact.id), {"name": "New Name", "email": "New@Example.com"}, format="json")

    # then
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.phone, contact.address) == ("New Name", "new@example.com", "", "")
    assert response.json()["data"] == body(contact)


def test_patch_amends_only_the_given_fields(kind, url, make, as_fm):
    # given
    contact = make(name="Old", phone="+1 555 0001", address="Old Street 1")

    # when
    response = as_fm.patch(url(contact.id), {"name": "New"}, format="json")

    # then
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.address) == ("New", "+1 555 0001", "Old Street 1")
    assert response.json()["data"] == body(contact)


@pytest.mark.parametrize(
    ("method", "payload", "fields"),
    [
        ("put", {"phone": "+1"}, ["email", "name"]),
        ("put", {"name": "A", "email": "a@example.com", "address": "x" * 501}, ["address"]),
        ("patch", {"email": "nope"}, ["email"]),
        ("patch", {"name": ""}, ["name"]),
    ],
)
def test_invalid_update_is_400_naming_the_fields_and_changes_nothing(
    kind, url, make, as_admin, outbox, method, payload, fields
):
    # given
    contact = make()
    before = snapshot(kind)

    # when
    response = getattr(as_admin, method)(url(contact.id), payload, format="json")

    # then
    assert response.status_code == 400
    assert sorted(detail["field"] for detail in response.json()["error"]["details"]) == fields
    assert snapshot(kind) == before
    assert outbox() == []


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_to_an_email_taken_is_409_and_changes_nothing(kind, url, make, as_admin, outbox, method):
    # given
    make(email="taken@example.com")
    contact = make(email="mine@example.com")
    before = snapshot(kind)

    # when
    response = getattr(as_admin, method)(url(contact.id), {"name": "Mine", "email": "Taken@Example.com"}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "email"
    assert snapshot(kind) == before
    assert outbox() == []


def test_update_keeping_own_email_in_another_case_is_allowed(kind, url, make, as_admin):
    # given
    contact = make(email="mine@example.com")

    # when
    response = as_admin.patch(url(contact.id), {"email": "MINE@example.com"}, format="json")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["email"] == "mine@example.com"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_unknown_id_is_404(kind, url, as_admin, method):
    # when
    response = getattr(as_admin, method)(url(uuid.uuid4()), {"name": "A", "email": "a@example.com"}, format="json")

    # then
    assert response.status_code == 404
    assert not kind.model.objects.exists()


# --- delete -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance_manager", "admin"])
def test_delete_returns_204_and_removes_the_row(kind, url, make, role):
    # given
    contact = make()

    # when
    response = auth_client(role).delete(url(contact.id))

    # then
    assert response.status_code == 204
    assert response.content == b""
    assert not kind.model.objects.exists()


def test_delete_by_inventory_manager_is_403_and_keeps_the_row(kind, url, make, as_im, outbox):
    # given
    contact = make()
    before = snapshot(kind)

    # when
    response = as_im.delete(url(contact.id))

    # then
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"
    assert snapshot(kind) == before
    assert outbox() == []


def test_delete_unknown_id_is_404(url, as_admin):
    # when
    response = as_admin.delete(url(uuid.uuid4()))

    # then
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


# --- authentication and service tokens --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("post", ""),
        ("get", "/ID"),
        ("put", "/ID"),
        ("patch", "/ID"),
        ("delete", "/ID"),
        ("get", "/lookup"),
    ],
)
def test_no_token_is_401(kind, url, make, method, path):
    # given
    from rest_framework.test import APIClient

    contact = make()
    before = snapshot(kind)

    # when
    response = getattr(APIClient(), method)(url() + path.replace("ID", str(contact.id)), format="json")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
    assert snapshot(kind) == before


def test_forged_token_is_401(kind, url):
    # given
    from erp_testkit import issue_token

    client = auth_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(role='admin')}x")

    # when
    response = client.get(url())

    # then
    assert response.status_code == 401


def test_service_token_may_retrieve(kind, url, make, as_service):
    # given
    contact = make()

    # when
    response = as_service.get(url(contact.id))

    # then
    assert response.status_code == 200
    assert response.json()["data"] == body(contact)


@pytest.mark.parametrize("caller", ["sales", "purchase"])
def test_the_order_services_tokens_search_the_list(kind, url, make, caller):
    # given: their admins' order entry searches for a party by name or email, active ones only
    found = make(name="Acme Retail", email="orders@acme.example")
    make(name="Acme Archived", email="old@acme.example", active=False)
    make(name="Other Shop", email="shop@other.example")

    # when
    response = auth_client(None, token_type="service", user_id=caller).get(
        url(), {"search": "acme", "active": "true", "limit": 20, "ordering": "name"}
    )

    # then
    assert response.status_code == 200
    assert response.json()["data"] == [body(found)]


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", ""), ("put", "/ID"), ("patch", "/ID"), ("delete", "/ID")],
)
def test_service_token_is_403_everywhere_else(kind, url, make, as_service, outbox, method, path):
    # given
    contact = make()
    before = snapshot(kind)

    # when
    response = getattr(as_service, method)(
        url() + path.replace("ID", str(contact.id)), {"name": "S", "email": "s@example.com"}, format="json"
    )

    # then
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"
    assert snapshot(kind) == before
    assert outbox() == []


@pytest.mark.parametrize("caller", ["gateway", "auth", "inventory", "contact"])
@pytest.mark.parametrize("suffix", ["/ID", "/lookup?ids=ID", "?search=a"])
def test_only_the_order_services_tokens_read_a_contact(kind, url, make, caller, suffix):
    # given
    contact = make()

    # when: the service token of a service that never reads contacts (the gateway's rides on every auth request)
    response = auth_client(None, token_type="service", user_id=caller).get(
        url() + suffix.replace("ID", str(contact.id))
    )

    # then
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"


def test_purchase_s_token_reads_a_contact_too(kind, url, make):
    # given
    contact = make()

    # when
    response = auth_client(None, token_type="service", user_id="purchase").get(url(contact.id))

    # then
    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(contact.id)


def test_user_token_without_a_known_role_is_401(kind, url):
    # when: a token whose role is none of the contract's (auth_svc never signs one)
    response = auth_client("warehouse_clerk").get(url())

    # then: the token itself is refused
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"


# --- lookup -----------------------------------------------------------------------------


@pytest.mark.parametrize("client_fixture", ["as_service", "as_im"])
def test_lookup_returns_the_found_ones_in_the_order_asked(request, kind, url, make, client_fixture):
    # given
    first, second, _other = make(), make(), make()
    client = request.getfixturevalue(client_fixture)
    ids = f"{second.id},{uuid.uuid4()},{first.id},{second.id}"

    # when
    response = client.get(url(suffix="/lookup"), {"ids": ids})

    # then
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "OK", "data": [body(second), body(first)]}


def test_lookup_accepts_repeated_ids_parameters(kind, url, make, as_service):
    # given
    first, second = make(), make()

    # when
    response = as_service.get(f"{url()}/lookup?ids={first.id}&ids={second.id}")

    # then
    assert [row["id"] for row in response.json()["data"]] == [str(first.id), str(second.id)]


def test_lookup_takes_one_query_whatever_the_number_of_ids(kind, url, make, as_service, django_assert_num_queries):
    # given
    ids = ",".join(str(make().id) for _ in range(5))

    # when
    with django_assert_num_queries(1):
        response = as_service.get(url(suffix="/lookup"), {"ids": ids})

    # then
    assert len(response.json()["data"]) == 5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "This field is required."),
        ({"ids": ""}, "Give at least one id."),
        ({"ids": "nope"}, "'nope' is not a valid UUID."),
        ({"ids": ",".join(str(uuid.uuid4()) for _ in range(101))}, "At most 100 ids."),
    ],
)
def test_lookup_bad_ids_is_400_naming_ids(url, as_service, query, message):
    # when
    response = as_service.get(url(suffix="/lookup"), query)

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "ids", "message": message}]


def test_lookup_accepts_100_ids(url, as_service):
    # when
    response = as_service.get(url(suffix="/lookup"), {"ids": ",".join(str(uuid.uuid4()) for _ in range(100))})

    # then
    assert response.status_code == 200
    assert response.json()["data"] == []


# --- method and media type --------------------------------------------------------------


def test_post_on_an_item_is_405(url, make, as_admin):
    # when
    response = as_admin.post(url(make().id), NEW, format="json")

    # then
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "method_not_allowed"
