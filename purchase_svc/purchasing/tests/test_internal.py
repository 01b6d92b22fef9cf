"""The internal reads inventory and contact make before they delete an item or a vendor (common.uses)."""

from __future__ import annotations

import uuid

import pytest

from erp_testkit import auth_client

pytestmark = pytest.mark.django_db


def _ask(path: str, caller: str):
    return auth_client(None, token_type="service", user_id=caller).get(path)


def test_an_item_is_used_by_the_orders_not_cancelled_that_have_it_on_a_line(services, draft, as_fm):
    # given: two drafts with the item (one on two lines), one cancelled, one of another item
    item, other = services.add_item(), services.add_item()
    first = draft([(item, 1), (item, 2)])
    second = draft([(other, 1), (item, 1)])
    cancelled = draft([(item, 1)])
    draft([(other, 1)])
    assert as_fm.post(f"/orders/{cancelled['id']}/cancel").status_code == 200

    # when
    response = _ask(f"/internal/items/{item}/orders", "inventory")

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {"count": 2, "order_ids": [second["id"], first["id"]]}


def test_a_vendor_is_used_by_its_orders_not_cancelled(services, draft, vendor_id):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    used = _ask(f"/internal/vendors/{vendor_id}/orders", "contact")
    unused = _ask(f"/internal/vendors/{uuid.uuid4()}/orders", "contact")

    # then
    assert used.json()["data"] == {"count": 1, "order_ids": [order["id"]]}
    assert unused.json()["data"] == {"count": 0, "order_ids": []}


@pytest.mark.parametrize(
    ("path", "caller"),
    [
        ("/internal/items/{id}/orders", "contact"),
        ("/internal/items/{id}/orders", "sales"),
        ("/internal/items/{id}/orders", "gateway"),
        ("/internal/vendors/{id}/orders", "inventory"),
        ("/internal/vendors/{id}/orders", "auth"),
    ],
)
def test_each_internal_read_serves_only_its_caller(path, caller):
    assert _ask(path.format(id=uuid.uuid4()), caller).status_code == 403


@pytest.mark.parametrize("role", ["inventory_manager", "finance_manager", "admin"])
def test_user_tokens_are_refused(role):
    assert auth_client(role).get(f"/internal/items/{uuid.uuid4()}/orders").status_code == 403
