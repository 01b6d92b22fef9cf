"""Tests both order services pass, written once; a service's test module imports them with ``*``.

They use the fixtures of :mod:`common.orders.fixtures` plus the conftest's
``order_model``, ``party_id`` and ``transition_permissions`` (``{"confirm":
"sales.confirm", ...}``), so they name neither service.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.events import registry
from common.orders import documents
from common.roles import roles_for

__all__ = [
    "order_schema",
    "test_a_deleted_party_leaves_its_orders_intact",
    "test_a_rename_applied_while_an_order_is_created_reaches_it",
    "test_a_rename_reaches_every_order_of_the_party",
    "test_an_older_event_arriving_late_does_not_undo_a_newer_name",
    "test_an_order_created_after_a_rename_is_not_undone_by_an_older_event",
    "test_every_operation_is_documented_with_its_roles",
    "test_transition_docs_name_the_roles_that_hold_them",
]


def _contact_event(order_model, change: str):
    return registry.lookup(f"contact.{order_model.PARTY.kind}.{change}", 1)


def _contact_data(order_model, party_id, name: str) -> dict:
    return {order_model.PARTY.id_field: party_id, "name": name, "email": "a@example.com", "phone": "", "address": ""}


def _names(order_model, party_id) -> list[str]:
    party = order_model.PARTY
    return list(order_model.objects.filter(**{party.id_field: party_id}).values_list(party.name_field, flat=True))


@pytest.mark.django_db
def test_a_rename_reaches_every_order_of_the_party(services, draft, order_model, party_id, deliver_contact):
    # given two orders of the party and one of another
    item = services.add_item()
    draft([(item, 1)])
    draft([(item, 2)])
    party = order_model.PARTY
    other = order_model.objects.create(
        **{party.id_field: services.add_contact(f"{party.kind}s"), party.name_field: "Other"}
    )

    # when
    deliver_contact(_contact_event(order_model, "updated"), _contact_data(order_model, party_id, "New Name"), version=2)

    # then
    assert _names(order_model, party_id) == ["New Name", "New Name"]
    assert getattr(order_model.objects.get(pk=other.pk), party.name_field) == "Other"


@pytest.mark.django_db
def test_an_older_event_arriving_late_does_not_undo_a_newer_name(
    services, draft, order_model, party_id, deliver_contact
):
    # given
    draft([(services.add_item(), 1)])
    deliver_contact(_contact_event(order_model, "updated"), _contact_data(order_model, party_id, "Newest"), version=3)

    # when
    deliver_contact(_contact_event(order_model, "updated"), _contact_data(order_model, party_id, "Older"), version=2)
    deliver_contact(_contact_event(order_model, "created"), _contact_data(order_model, party_id, "First"), version=1)

    # then
    assert _names(order_model, party_id) == ["Newest"]


@pytest.mark.django_db
def test_an_order_created_after_a_rename_is_not_undone_by_an_older_event(
    services, draft, order_model, party_id, deliver_contact
):
    # given: the rename (version 2) was applied before the party had any order
    deliver_contact(_contact_event(order_model, "updated"), _contact_data(order_model, party_id, "Renamed"), version=2)
    services.contacts[f"{order_model.PARTY.kind}s"][party_id]["name"] = "Renamed"
    order = draft([(services.add_item(), 1)])

    # when the creation (version 1) arrives late
    deliver_contact(_contact_event(order_model, "created"), _contact_data(order_model, party_id, "Original"), version=1)

    # then
    assert order[order_model.PARTY.name_field] == "Renamed"
    assert _names(order_model, party_id) == ["Renamed"]


@pytest.mark.django_db
def test_a_rename_applied_while_an_order_is_created_reaches_it(
    services, draft, order_model, party_id, deliver_contact, monkeypatch
):
    # given: contact_svc answers the name as it was (version 1), and while the items are
    # being checked the rename (version 2) is applied, to orders that do not include this one
    real_lines_checked = documents.lines_checked

    def lines_checked_during_a_rename(**kwargs):
        rename = _contact_data(order_model, party_id, "Renamed")
        deliver_contact(_contact_event(order_model, "updated"), rename, version=2)
        return real_lines_checked(**kwargs)

    monkeypatch.setattr(documents, "lines_checked", lines_checked_during_a_rename)

    # when
    order = draft([(services.add_item(), 1)])

    # then: the order has the rename, not the name read before it (whose event will not come again)
    assert order[order_model.PARTY.name_field] == "Renamed"
    assert getattr(order_model.objects.get(pk=order["id"]), order_model.PARTY.version_field) == 2


@pytest.mark.django_db
def test_a_deleted_party_leaves_its_orders_intact(services, draft, order_model, party_id, deliver_contact):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    deliver_contact(
        _contact_event(order_model, "deleted"),
        _contact_data(order_model, party_id, order[order_model.PARTY.name_field]),
        version=4,
    )

    # then
    row = order_model.objects.get(pk=order["id"])
    assert (row.party_name, row.status, row.lines.count()) == (order[order_model.PARTY.name_field], "Draft", 1)


@pytest.fixture(scope="module")
def order_schema():
    response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_is_documented_with_its_roles(order_schema, transition_permissions):
    paths = order_schema["paths"]
    assert set(paths["/orders"]) == {"get", "post"}
    assert set(paths["/orders/{id}"]) - {"parameters"} == {"get", "put"}
    operations = [paths["/orders"]["get"], paths["/orders"]["post"], paths["/orders/{id}"]["get"]]
    operations += [paths["/orders/{id}"]["put"]]
    operations += [paths[f"/orders/{{id}}/{name}"]["post"] for name in transition_permissions]
    for operation in operations:
        assert operation["summary"]
        assert "Roles: " in operation["description"]
        assert {"400", "401", "403"} <= set(operation["responses"])


def test_transition_docs_name_the_roles_that_hold_them(order_schema, transition_permissions):
    for name, permission in transition_permissions.items():
        operation = order_schema["paths"][f"/orders/{{id}}/{name}"]["post"]
        assert f"Roles: {', '.join(roles_for(permission))}." in operation["description"]
        assert "Idempotency-Key" in [parameter["name"] for parameter in operation["parameters"]]
