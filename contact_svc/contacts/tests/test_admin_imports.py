"""The contact admins' CSV import and export: the same service, so the same events, as the API."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from common.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

FILE = b"name,email\r\nAcme,SALES@acme.example\r\n"


def test_preview_then_import_creates_through_the_service(staff_login, kind):
    # given
    client = staff_login("finance_manager")
    page = f"/admin/contacts/{kind.name}/import/"

    # when
    preview = client.post(page, {"file": SimpleUploadedFile("c.csv", FILE), "preview": "1"})
    nothing_yet = kind.model.objects.count()
    digest = hashlib.sha256(FILE).hexdigest()
    done = client.post(page, {"file": SimpleUploadedFile("c.csv", FILE), "previewed": digest, "import": "1"})

    # then
    assert b"<strong>Preview:</strong> 1 created, 0 updated, 0 unchanged." in preview.content
    assert nothing_yet == 0
    assert b"Imported: 1 created, 0 updated, 0 unchanged." in done.content
    assert list(kind.model.objects.values_list("email", flat=True)) == ["sales@acme.example"]
    assert [event.event_type for event in OutboxEvent.objects.all()] == [f"contact.{kind.name}.created"]


def test_export_action_answers_the_selected_contacts(staff_login, kind, make):
    # given
    contact = make(name="@risky", email="a@example.com", phone="", address="")

    # when
    response = staff_login("inventory_manager").post(
        f"/admin/contacts/{kind.name}/", {"action": "export_csv", "_selected_action": [str(contact.pk)]}
    )

    # then
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "name,email,phone,address",
        "'@risky,a@example.com,,",
    ]
