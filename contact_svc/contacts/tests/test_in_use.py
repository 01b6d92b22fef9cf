"""Nothing in use is deleted (issue 26): a customer or vendor with an order that is not cancelled is archived instead.

contact_svc asks sales_svc about a customer and purchase_svc about a vendor (both faked here,
``order_services``) before it deletes; a contact they cannot vouch for is kept (503).
"""

from __future__ import annotations

import uuid

import pytest

from erp_testkit.fake_services import closed_port_url

pytestmark = pytest.mark.django_db

ORDER_SERVICE = {"customer": ("sales", "SALES_SERVICE_URL"), "vendor": ("purchase", "PURCHASE_SERVICE_URL")}


def _rows(kind):
    return list(kind.model.objects.order_by("id").values())


def test_a_contact_with_a_draft_order_is_not_deleted(kind, url, make, as_fm, order_services, outbox):
    # given: a draft order of the contact's (the attack's customer)
    contact = make()
    order = str(uuid.uuid4())
    order_services.use(f"/internal/{kind.plural}/{contact.id}/orders", [order])
    before = _rows(kind)

    # when
    response = as_fm.delete(url(contact.id))

    # then: a 409 naming the order, asked of the one service whose orders name this kind; nothing changed
    service = ORDER_SERVICE[kind.name][0]
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": f"{service}_orders", "message": f"On 1 {service} order(s) that are not cancelled: {order}."}
    ]
    assert [path for _, path, _ in order_services.requests if path.startswith("/internal/")] == [
        f"/internal/{kind.plural}/{contact.id}/orders"
    ]
    assert _rows(kind) == before
    assert outbox() == []


def test_a_contact_is_kept_while_its_order_service_cannot_say(kind, url, make, as_fm, order_services, settings, outbox):
    # given
    contact = make()
    settings.ERP = {**settings.ERP, ORDER_SERVICE[kind.name][1]: closed_port_url()}
    before = _rows(kind)

    # when
    response = as_fm.delete(url(contact.id))

    # then
    assert response.status_code == 503
    assert _rows(kind) == before
    assert outbox() == []


def test_a_contact_is_archived_instead(kind, url, make, as_fm, as_service):
    # given
    contact = make()

    # when
    archived = as_fm.patch(url(contact.id), {"active": False}, format="json")

    # then: the order services still read it, and see that it is archived
    assert archived.status_code == 200
    assert archived.json()["data"]["active"] is False
    assert as_service.get(url(contact.id)).json()["data"]["active"] is False
    assert as_fm.get(url(), {"active": "false"}).json()["meta"]["total"] == 1
    assert as_fm.get(url(), {"active": "true"}).json()["meta"]["total"] == 0
