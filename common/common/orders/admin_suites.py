"""Admin tests both order services pass, written once; a service's test module imports them with ``*``.

They use the fixtures of :mod:`common.orders.fixtures`, the plugin's ``staff_login``, and
the conftest's ``order_model``, ``party_id`` and ``transition_permissions``, so they name
neither service. Every transition in the admin is an action calling the service; a
refusal shows a message and changes nothing; the status history is written by the
transitions (API or admin) and shown read-only.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from common.events.models import OutboxEvent
from common.roles import FINANCE_MANAGER, INVENTORY_MANAGER, role_has_permission

from .machine import status_change_model

__all__ = [
    "test_a_refused_transition_shows_a_message_and_changes_nothing",
    "test_an_action_the_role_lacks_is_neither_offered_nor_run",
    "test_an_admin_action_calls_the_service_and_is_kept_in_the_status_history",
    "test_api_transitions_are_kept_in_the_status_history_with_the_callers_email",
    "test_orders_are_filtered_by_party_and_status",
    "test_staff_see_an_order_its_lines_and_history_read_only",
]


def _changelist(order_model) -> str:
    return f"/admin/{order_model._meta.app_label}/{order_model._meta.model_name}/"


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _state(order_model, order_id) -> tuple:
    """What a refused transition must leave as it was: the row, the history, the outbox."""
    row = order_model.objects.get(pk=order_id)
    history = list(status_change_model(order_model).objects.filter(order_id=order_id).values_list("to_status"))
    return row.status, row.revision, row.updated_at, history, OutboxEvent.objects.count()


def _history(order_model, order_id) -> list[tuple[str, str, str]]:
    changes = status_change_model(order_model).objects.filter(order_id=order_id)
    return list(changes.values_list("from_status", "to_status", "actor"))


@pytest.mark.django_db
def test_a_refused_transition_shows_a_message_and_changes_nothing(services, draft, order_model, staff_login):
    # given: a draft, which cannot be paid yet
    order = draft([(services.add_item(stock=5), 1)])
    finance = staff_login(FINANCE_MANAGER)
    before = _state(order_model, order["id"])

    # when
    response = finance.post(_changelist(order_model), {"action": "pay", "_selected_action": [order["id"]]}, follow=True)

    # then
    assert response.status_code == 200
    [message] = _messages(response)
    assert message.startswith(order["id"]) and "order is Draft, expected" in message
    assert _state(order_model, order["id"]) == before


@pytest.mark.django_db
def test_an_admin_action_calls_the_service_and_is_kept_in_the_status_history(services, draft, order_model, staff_login):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    finance = staff_login(FINANCE_MANAGER, **{get_user_model().USERNAME_FIELD: "fm.staff@example.com"})

    # when
    response = finance.post(
        _changelist(order_model), {"action": "cancel", "_selected_action": [order["id"]]}, follow=True
    )

    # then
    assert "Cancel selected orders: 1 order(s)." in _messages(response)
    assert order_model.objects.get(pk=order["id"]).status == "Cancelled"
    assert _history(order_model, order["id"]) == [("Draft", "Cancelled", "fm.staff@example.com")]


@pytest.mark.django_db
def test_api_transitions_are_kept_in_the_status_history_with_the_callers_email(services, draft, order_model, as_fm):
    # given
    order = draft([(services.add_item(stock=5), 1)])

    # when
    response = as_fm.post(f"/orders/{order['id']}/cancel")

    # then
    assert response.status_code == 200, response.json()
    assert _history(order_model, order["id"]) == [("Draft", "Cancelled", "finance_manager@example.com")]


@pytest.mark.django_db
def test_staff_see_an_order_its_lines_and_history_read_only(services, draft, order_model, staff_login, as_fm):
    # given: a cancelled order, seen by the role with the fewest rights here
    order = draft([(services.add_item(sku="SHOWN-SKU", unit_price="2.50"), 3)])
    as_fm.post(f"/orders/{order['id']}/cancel")
    inventory = staff_login(INVENTORY_MANAGER)

    # when
    page = inventory.get(f"{_changelist(order_model)}{order['id']}/change/")

    # then: lines with their subtotal, the history, and nothing to type into or save
    assert page.status_code == 200
    content = page.content.decode()
    assert "SHOWN-SKU" in content and "7.50" in content
    assert "status history" in content.lower() and "finance_manager@example.com" in content
    for name in ("status", "total_amount", "lines-0-quantity", "status_changes-0-to_status", "_save"):
        assert f'name="{name}"' not in content


@pytest.mark.django_db
def test_orders_are_filtered_by_party_and_status(services, draft, order_model, party_id, staff_login, as_fm):
    # given: one order of the party (cancelled) and one of another party
    ours = draft([(services.add_item(), 1)])
    as_fm.post(f"/orders/{ours['id']}/cancel")
    party = order_model.PARTY
    other = order_model.objects.create(
        **{party.id_field: services.add_contact(f"{party.kind}s"), party.name_field: "Other Party"}
    )
    client = staff_login(INVENTORY_MANAGER)

    def listed(**params) -> set[str]:
        response = client.get(_changelist(order_model), params)
        assert response.status_code == 200
        return {str(row.pk) for row in response.context["cl"].result_list}

    # then
    assert listed() == {ours["id"], str(other.pk)}
    assert listed(**{party.id_field: party_id}) == {ours["id"]}
    assert listed(status__exact="Cancelled") == {ours["id"]}
    assert listed(status__exact="Draft") == {str(other.pk)}
    sidebar = client.get(_changelist(order_model)).content.decode()
    assert "Other Party" in sidebar and f"{party.id_field}={party_id}" in sidebar


@pytest.mark.django_db
def test_an_action_the_role_lacks_is_neither_offered_nor_run(
    services, draft, order_model, staff_login, transition_permissions
):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    before = _state(order_model, order["id"])

    for role in (INVENTORY_MANAGER, FINANCE_MANAGER):
        client = staff_login(role)
        offered = client.get(_changelist(order_model)).content.decode()
        for name, permission in transition_permissions.items():
            # then: offered exactly to the roles holding the permission
            assert (f'value="{name}"' in offered) is role_has_permission(role, permission), (role, name)
            if role_has_permission(role, permission):
                continue

            # when: posted anyway
            response = client.post(
                _changelist(order_model), {"action": name, "_selected_action": [order["id"]]}, follow=True
            )

            # then: Django refuses the unknown choice ("No action selected."), or, with no
            # action offered at all, shows the list again
            assert set(_messages(response)) <= {"No action selected."}
            assert _state(order_model, order["id"]) == before
