"""Customers and vendors in and out as CSV: the same rows and events as one-by-one entry, all or nothing."""

from __future__ import annotations

import json

import pytest

from common.events.models import OutboxEvent
from common.exceptions import Conflict
from contacts.imports import contact_import
from erp_testkit.concurrency import Worker

pytestmark = pytest.mark.django_db


def post_csv(client, url, text: str | bytes, query: str = ""):
    data = text.encode() if isinstance(text, str) else text
    return client.generic("POST", url(suffix="/import") + query, data, content_type="text/csv")


def export(client, url, query: str = "") -> str:
    response = client.get(url(suffix="/export") + query)
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"].endswith(f'{url().strip("/")}.csv"')
    return b"".join(response.streaming_content).decode()


def result(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["data"]


def rows(kind):
    return list(kind.model.objects.order_by("email").values("name", "email", "phone", "address", "version"))


def events():
    return [(row.event_type, json.loads(row.payload)["data"]["email"]) for row in OutboxEvent.objects.order_by("id")]


def test_import_creates_and_updates_by_email_with_the_events_of_one_by_one_entry(as_fm, kind, url):
    # given
    as_fm.post(url(), {"name": "Old", "email": "a@example.com", "phone": "1"}, format="json")
    as_fm.post(url(), {"name": "Same", "email": "b@example.com"}, format="json")
    before = len(events())

    # when: a changes its name (phone left as is), b is unchanged, c is new
    response = post_csv(
        as_fm, url, "name,email,phone\r\nNew,A@Example.com,\r\nSame,b@example.com,\r\nC,c@example.com,3\r\n"
    )

    # then
    assert result(response) == {"dry_run": False, "created": 1, "updated": 1, "unchanged": 1}
    assert rows(kind) == [
        {"name": "New", "email": "a@example.com", "phone": "1", "address": "", "version": 2},
        {"name": "Same", "email": "b@example.com", "phone": "", "address": "", "version": 1},
        {"name": "C", "email": "c@example.com", "phone": "3", "address": "", "version": 1},
    ]
    assert events()[before:] == [
        (f"contact.{kind.name}.updated", "a@example.com"),
        (f"contact.{kind.name}.created", "c@example.com"),
    ]


def test_dry_run_answers_the_counts_and_writes_nothing(as_fm, kind, url):
    # given
    as_fm.post(url(), {"name": "Old", "email": "a@example.com"}, format="json")
    before = (rows(kind), events())

    # when
    response = post_csv(as_fm, url, "name,email\nNew,a@example.com\nC,c@example.com\n", "?dry_run=true")

    # then
    assert result(response) == {"dry_run": True, "created": 1, "updated": 1, "unchanged": 0}
    assert (rows(kind), events()) == before


def test_one_bad_row_refuses_the_file_naming_each_bad_cell(as_fm, kind, url):
    # given
    before = (rows(kind), events())

    # when
    response = post_csv(as_fm, url, "name,email,phone\nA,a@example.com,\n,not-an-email,\nB,b@example.com," + "9" * 51)

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [
        "rows.3.email",
        "rows.4.phone",
    ]
    assert (rows(kind), events()) == before


def test_the_same_email_twice_is_refused_naming_both_lines(as_fm, kind, url):
    # when
    response = post_csv(as_fm, url, "name,email\nA,a@example.com\nB,A@EXAMPLE.COM\n")

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["rows.2.email", "rows.3.email"]
    assert rows(kind) == []


def test_a_new_contact_needs_a_name(as_fm, kind, url):
    # when
    response = post_csv(as_fm, url, "email\na@example.com\n")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "rows.2.name", "message": f"Required for a new {kind.name}."}
    ]
    assert rows(kind) == []


def test_export_then_import_changes_nothing(as_fm, kind, url):
    # given: cells a spreadsheet would run, quotes, commas and line breaks
    for body in (
        {"name": "=cmd|' /C calc'!A0", "email": "a@example.com", "phone": "+49 30 1", "address": "1, Main St\nBerlin"},
        {"name": '"Quoted", Ltd', "email": "b@example.com", "phone": "-", "address": "@home"},
    ):
        assert as_fm.post(url(), body, format="json").status_code == 201
    before = (rows(kind), events())

    # when
    text = export(as_fm, url, "?ordering=email")
    response = post_csv(as_fm, url, text)

    # then
    assert text.splitlines()[:2] == [
        "name,email,phone,address",
        "'=cmd|' /C calc'!A0,a@example.com,'+49 30 1,\"1, Main St",
    ]
    assert result(response) == {"dry_run": False, "created": 0, "updated": 0, "unchanged": 2}
    assert (rows(kind), events()) == before


def test_roles_import_with_write_and_export_with_read(as_im, as_fm, kind, url):
    # when / then: both managers may write contacts (contract §3)
    assert post_csv(as_im, url, "name,email\nA,a@example.com\n").status_code == 200
    assert export(as_fm, url).splitlines() == ["name,email,phone,address", "A,a@example.com,,"]


def test_an_imported_change_writes_the_event_an_api_change_writes(as_fm, kind, url):
    # given: two contacts alike
    for email in ("a@example.com", "b@example.com"):
        as_fm.post(url(), {"name": "Old", "email": email, "address": "Here"}, format="json")
    first = kind.model.objects.get(email="a@example.com")

    # when: one changed through the API, the other by a file
    as_fm.patch(url(first.pk), {"name": "New", "phone": "7"}, format="json")
    result(post_csv(as_fm, url, "email,name,phone\nb@example.com,New,7\n"))

    # then: the same event, but for the ids
    by_api, by_file = (json.loads(row.payload) for row in OutboxEvent.objects.order_by("id")[2:])
    for event in (by_api, by_file):
        event["data"].pop(kind.id_key), event["data"].pop("email")
    assert (by_file["event_type"], by_file["aggregate_version"], by_file["data"]) == (
        by_api["event_type"],
        by_api["aggregate_version"],
        by_api["data"],
    )
    assert rows(kind)[0] | {"email": "b@example.com"} == rows(kind)[1]


@pytest.mark.django_db(transaction=True)
def test_two_imports_creating_the_same_emails_in_opposite_orders_never_deadlock(postgresql, kind):
    # given: two files of the same 1,000 new emails, one the other upside down
    emails = [f"race{n:04}@example.com" for n in range(1000)]
    files = [
        ("name,email\n" + "".join(f"Race,{email}\n" for email in order)).encode() for order in (emails, emails[::-1])
    ]
    workers = [Worker(lambda data=data: contact_import(kind=kind, data=data)) for data in files]

    # when
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    # then: one creates them all, the other is the 409 of a duplicate email, not a deadlock (a 503)
    assert [worker.result.created for worker in workers if worker.error is None] == [1000]
    assert [type(worker.error) for worker in workers if worker.error is not None] == [Conflict]
    assert kind.model.objects.count() == 1000
