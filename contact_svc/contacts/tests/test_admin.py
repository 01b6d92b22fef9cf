"""The Django admin of contacts: edits go through the services, so they write events too."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def admin_url(kind, suffix: str = "") -> str:
    return f"/admin/contacts/{kind.name}/{suffix}"


def form(**overrides) -> dict:
    return {"name": "Admin Made", "email": "Admin@Example.com", "phone": "", "address": "", **overrides}


def test_admin_lists_and_searches(kind, make, admin_client):
    # given
    make(name="Findable Ltd")
    make(name="Hidden Co")

    # when
    response = admin_client.get(admin_url(kind), {"q": "findable"})

    # then
    assert response.status_code == 200
    assert b"Findable Ltd" in response.content
    assert b"Hidden Co" not in response.content


def test_admin_add_goes_through_the_service(kind, admin_client, outbox):
    # when
    response = admin_client.post(admin_url(kind, "add/"), form())

    # then
    assert response.status_code == 302, response.content
    contact = kind.model.objects.get()
    assert contact.email == "admin@example.com"
    [row] = outbox()
    assert json.loads(row.payload)["data"][kind.id_key] == str(contact.id)
    assert row.event_type == f"contact.{kind.name}.created"


def test_admin_change_goes_through_the_service(kind, make, admin_client, outbox):
    # given
    contact = make(name="Before")

    # when
    response = admin_client.post(admin_url(kind, f"{contact.pk}/change/"), form(name="After", email=contact.email))

    # then
    assert response.status_code == 302, response.content
    contact.refresh_from_db()
    assert contact.name == "After"
    assert [row.event_type for row in outbox()] == [f"contact.{kind.name}.updated"]


def test_admin_refuses_a_duplicate_email_in_any_case(kind, make, admin_client, outbox):
    # given
    make(email="taken@example.com")

    # when
    response = admin_client.post(admin_url(kind, "add/"), form(email="TAKEN@example.com"))

    # then: the form shows the error, nothing is written
    assert response.status_code == 200
    assert kind.model.objects.count() == 1
    assert outbox() == []


def test_admin_delete_goes_through_the_service(kind, make, admin_client, outbox):
    # given
    contact = make()

    # when
    response = admin_client.post(admin_url(kind, f"{contact.pk}/delete/"), {"post": "yes"})

    # then
    assert response.status_code == 302
    assert not kind.model.objects.exists()
    assert [row.event_type for row in outbox()] == [f"contact.{kind.name}.deleted"]


def test_admin_bulk_delete_writes_one_event_per_row(kind, make, admin_client, outbox):
    # given
    contacts = make.create_batch(2)

    # when
    response = admin_client.post(
        admin_url(kind),
        {"action": "delete_selected", "_selected_action": [str(c.pk) for c in contacts], "post": "yes"},
    )

    # then
    assert response.status_code == 302
    assert not kind.model.objects.exists()
    assert sorted(row.aggregate_id for row in outbox()) == sorted(str(c.pk) for c in contacts)


def test_only_a_finance_manager_deletes_contacts(kind, make, staff_login, outbox):
    # given
    kept, deleted = make(), make()
    inventory = staff_login("inventory_manager")

    # when
    refused = inventory.post(admin_url(kind, f"{kept.pk}/delete/"), {"post": "yes"})
    bulk = inventory.post(
        admin_url(kind), {"action": "delete_selected", "_selected_action": [str(kept.pk)], "post": "yes"}, follow=True
    )
    done = staff_login("finance_manager").post(admin_url(kind, f"{deleted.pk}/delete/"), {"post": "yes"})

    # then
    assert (refused.status_code, done.status_code) == (403, 302)
    assert b'value="delete_selected"' not in inventory.get(admin_url(kind)).content
    assert bulk.status_code == 200
    assert list(kind.model.objects.values_list("pk", flat=True)) == [kept.pk]
    assert [row.event_type for row in outbox()] == [f"contact.{kind.name}.deleted"]


def test_an_inventory_manager_adds_and_changes_contacts(kind, make, staff_login, outbox):
    # given
    contact = make(name="Before")
    client = staff_login("inventory_manager")

    # when
    added = client.post(admin_url(kind, "add/"), form(email="new@example.com"))
    changed = client.post(admin_url(kind, f"{contact.pk}/change/"), form(name="After", email=contact.email))

    # then
    assert (added.status_code, changed.status_code) == (302, 302)
    assert sorted(kind.model.objects.values_list("name", flat=True)) == ["Admin Made", "After"]
    assert [row.event_type for row in outbox()] == [f"contact.{kind.name}.created", f"contact.{kind.name}.updated"]
