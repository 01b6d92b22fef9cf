"""Events of contact changes: written to the outbox with the change, exactly, and only then."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.db import connections

from common.events import registry
from contacts import events as contact_events
from contacts.services import contact_update

pytestmark = pytest.mark.django_db

CHANGES = ("created", "updated", "deleted")


def event_type(kind, change):
    """Return the registry constant, looked up by its name (CUSTOMER_CREATED ...)."""
    return getattr(registry, f"{kind.name.upper()}_{change.upper()}")


def envelope(row) -> dict:
    return json.loads(row.payload)


def expected_data(kind, contact_id, name, email, phone, address) -> dict:
    return {kind.id_key: str(contact_id), "name": name, "email": email, "phone": phone, "address": address}


def test_create_writes_the_created_event(kind, url, as_admin, outbox):
    # when
    response = as_admin.post(
        url(),
        {"name": "Acme", "email": "Hello@Acme.Example", "phone": "+1 555", "address": "1 Main St"},
        format="json",
        HTTP_X_REQUEST_ID="req-42",
    )

    # then
    contact_id = response.json()["data"]["id"]
    [row] = outbox()
    assert (row.event_type, row.version, row.producer, row.aggregate_id) == (
        event_type(kind, "created").name,
        1,
        "contact",
        contact_id,
    )
    body = envelope(row)
    assert body["event_type"] == f"contact.{kind.name}.created"
    assert (body["aggregate_id"], body["aggregate_version"]) == (contact_id, 1)
    assert body["correlation_id"] == "req-42"
    assert body["data"] == expected_data(kind, contact_id, "Acme", "hello@acme.example", "+1 555", "1 Main St")


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_writes_the_updated_event_with_the_whole_contact(kind, url, make, as_admin, outbox, method):
    # given
    contact = make(name="Old", email="old@example.com", phone="+1 1", address="Old St")

    # when
    response = getattr(as_admin, method)(url(contact.id), {"name": "New", "email": "new@example.com"}, format="json")

    # then
    assert response.status_code == 200
    [row] = outbox()
    assert row.event_type == event_type(kind, "updated").name
    assert row.aggregate_id == str(contact.id)
    phone, address = ("", "") if method == "put" else ("+1 1", "Old St")
    assert envelope(row)["data"] == expected_data(kind, contact.id, "New", "new@example.com", phone, address)
    assert envelope(row)["aggregate_version"] == 2
    assert kind.model.objects.get().version == 2


def test_each_change_carries_the_next_version(kind, url, make, as_admin, outbox):
    # given
    contact = make(name="V1")

    # when: two updates, an update that changes nothing, then the deletion
    as_admin.patch(url(contact.id), {"name": "V2"}, format="json")
    as_admin.patch(url(contact.id), {"name": "V3"}, format="json")
    as_admin.patch(url(contact.id), {"name": "V3"}, format="json")
    as_admin.delete(url(contact.id))

    # then
    assert [(row.event_type.rsplit(".", 1)[1], envelope(row)["aggregate_version"]) for row in outbox()] == [
        ("updated", 2),
        ("updated", 3),
        ("deleted", 4),
    ]


def test_update_that_changes_nothing_writes_no_event(kind, url, make, as_admin, outbox):
    # given
    contact = make(name="Same", email="same@example.com")
    before = kind.model.objects.get().updated_at

    # when
    response = as_admin.patch(url(contact.id), {"name": "Same", "email": "SAME@example.com"}, format="json")

    # then
    assert response.status_code == 200
    assert outbox() == []
    assert kind.model.objects.get().updated_at == before


def test_delete_writes_the_deleted_event_with_the_last_values(kind, url, make, as_admin, outbox):
    # given
    contact = make(name="Gone", email="gone@example.com", phone="+1 2", address="Gone St")

    # when
    response = as_admin.delete(url(contact.id))

    # then
    assert response.status_code == 204
    [row] = outbox()
    assert row.event_type == event_type(kind, "deleted").name
    assert row.aggregate_id == str(contact.id)
    assert envelope(row)["data"] == expected_data(kind, contact.id, "Gone", "gone@example.com", "+1 2", "Gone St")
    assert envelope(row)["aggregate_version"] == 2


def test_change_rolls_back_when_the_event_cannot_be_written(kind, url, as_admin, outbox, monkeypatch):
    # given: the outbox insert fails inside the service's transaction
    def broken(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(contact_events, "publish_event", broken)

    # when
    response = as_admin.post(url(), {"name": "A", "email": "a@example.com"}, format="json")

    # then: no contact without its event
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "internal"
    assert not kind.model.objects.exists()
    assert outbox() == []


def test_delete_rolls_back_when_the_event_cannot_be_written(kind, url, make, as_admin, outbox, monkeypatch):
    # given
    contact = make()
    monkeypatch.setattr(contact_events, "publish_event", lambda *a, **k: (_ for _ in ()).throw(RuntimeError()))

    # when
    response = as_admin.delete(url(contact.id))

    # then
    assert response.status_code == 500
    assert kind.model.objects.filter(pk=contact.pk).exists()
    assert outbox() == []


@pytest.mark.parametrize("change", CHANGES)
def test_event_types_come_from_the_registry(kind, change):
    # then: every (kind, change) maps to the registry constant, never a string
    assert contact_events.EVENT_TYPES[kind, change] is event_type(kind, change)
    assert event_type(kind, change).name == f"contact.{kind.name}.{change}"


def test_unknown_contact_id_writes_no_event(url, as_admin, outbox):
    # when
    patched = as_admin.patch(url(uuid.uuid4()), {"name": "X"}, format="json")
    deleted = as_admin.delete(url(uuid.uuid4()))

    # then
    assert (patched.status_code, deleted.status_code) == (404, 404)
    assert patched.json()["error"]["type"] == deleted.json()["error"]["type"] == "not_found"
    assert outbox() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_never_share_a_version(kind, make, outbox):
    # given: four writers changing one contact at the same moment
    contact = make(name="Start")
    barrier = threading.Barrier(4)
    failures = []

    def update(index):
        try:
            barrier.wait(timeout=10)
            contact_update(contact=contact, data={"name": f"Writer {index}"})
        except Exception as exc:  # reported below: a thread's exception would otherwise vanish
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=update, args=(index,)) for index in range(4)]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: each change got its own version, in the row and in its event
    assert failures == []
    assert sorted(envelope(row)["aggregate_version"] for row in outbox()) == [2, 3, 4, 5]
    assert kind.model.objects.get().version == 5
