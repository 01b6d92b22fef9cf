"""The contact services called directly (as the admin and seed command do)."""

from __future__ import annotations

import pytest

from common.exceptions import Conflict, NotFound, ValidationFailed
from contacts.services import contact_create, contact_delete, contact_update

pytestmark = pytest.mark.django_db


def test_contact_create_normalizes_email(kind):
    # when
    contact = contact_create(kind=kind, name="Acme", email="  Mixed@Case.Example ")

    # then
    assert kind.model.objects.get(pk=contact.pk).email == "mixed@case.example"


def test_contact_create_refuses_an_invalid_email_without_the_serializer(kind, outbox):
    # when
    with pytest.raises(ValidationFailed) as caught:
        contact_create(kind=kind, name="Acme", email="nope")

    # then
    assert caught.value.details == [{"field": "email", "message": "Enter a valid email address."}]
    assert not kind.model.objects.exists()
    assert outbox() == []


def test_contact_create_duplicate_raises_conflict_from_the_database(kind, make, outbox):
    # given: the unique index on lower(email) is the only check, so this is the race path too
    make(email="dup@example.com")

    # when
    with pytest.raises(Conflict) as caught:
        contact_create(kind=kind, name="Other", email="DUP@example.com")

    # then
    assert caught.value.details == [{"field": "email", "message": f"A {kind.name} with this email already exists."}]
    assert kind.model.objects.count() == 1
    assert outbox() == []


def test_contact_update_refuses_unknown_fields(kind, make):
    # given
    contact = make(name="Keep")

    # when
    with pytest.raises(ValidationFailed) as caught:
        contact_update(contact=contact, data={"created_at": None})

    # then
    assert caught.value.details == [{"field": "created_at", "message": "This field cannot be changed."}]
    contact.refresh_from_db()
    assert contact.name == "Keep"


def test_contact_update_of_a_row_deleted_meanwhile_is_not_found(kind, make, outbox):
    # given
    contact = make()
    kind.model.objects.filter(pk=contact.pk).delete()

    # when
    with pytest.raises(NotFound):
        contact_update(contact=contact, data={"name": "Late"})

    # then
    assert outbox() == []


def test_contact_delete_of_a_row_deleted_meanwhile_is_not_found(kind, make, outbox):
    # given
    contact = make()
    kind.model.objects.filter(pk=contact.pk).delete()

    # when
    with pytest.raises(NotFound):
        contact_delete(contact=contact)

    # then
    assert outbox() == []


def test_database_refuses_an_upper_case_email_written_around_the_services(kind, make):
    # given
    from django.db import IntegrityError, transaction

    contact = make()

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        kind.model.objects.filter(pk=contact.pk).update(email="UPPER@example.com")
