"""``manage.py seed_demo``: demo contacts, through the services, once."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from contacts.kinds import KINDS
from contacts.management.commands.seed_demo import DEMO
from erp_testkit.compat import POSTMAN_EMAILS, POSTMAN_NAMES

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_each_contact_once(outbox):
    # given
    call_command("seed_demo")
    counts = {kind: kind.model.objects.count() for kind in KINDS}
    events = len(outbox())

    # when
    call_command("seed_demo")

    # then
    assert counts == {kind: len(DEMO[kind]) for kind in KINDS}
    assert {kind: kind.model.objects.count() for kind in KINDS} == counts
    assert events == sum(counts.values())
    assert len(outbox()) == events


def test_seed_demo_keeps_an_existing_contact_as_it_is(kind):
    # given
    first = DEMO[kind][0]
    kind.model.objects.create(name="Edited by hand", email=first["email"])

    # when
    call_command("seed_demo")

    # then
    assert kind.model.objects.get(email=first["email"]).name == "Edited by hand"
    assert kind.model.objects.count() == len(DEMO[kind])


def test_seed_demo_takes_no_email_or_name_of_the_original_postman_collection():
    # given
    seeded = [fields for contacts in DEMO.values() for fields in contacts]

    # then: its users can run it against the demo data without a 409 or a stray search hit
    assert POSTMAN_EMAILS.isdisjoint(fields["email"] for fields in seeded)
    assert POSTMAN_NAMES.isdisjoint(fields["name"] for fields in seeded)


def test_seed_demo_ids_json_prints_the_demo_contacts_ids_for_the_local_run(kind):
    # given: an earlier seed, and one demo contact deleted by an operator
    call_command("seed_demo", stdout=io.StringIO())
    kind.model.objects.filter(email=DEMO[kind][1]["email"]).delete()
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("seed_demo", "--ids-json", stdout=out, stderr=err)

    # then: stdout is only the ids, in DEMO's order (the re-created one included), the summary on stderr
    ids = json.loads(out.getvalue())
    emails = [fields["email"] for fields in DEMO[kind]]
    assert ids[kind.plural] == [str(kind.model.objects.get(email=email).pk) for email in emails]
    assert f"{kind.plural}: 1 created" in err.getvalue()
