"""The events contact_svc publishes: contact.<kind>.created|updated|deleted.

Written to the transactional outbox by the services, inside the transaction of the
change, so an event is sent if and only if the change commits (CONTRACT §6).
"""

from __future__ import annotations

from typing import Any, Literal

from common.events import EventType, publish_event, registry

from .kinds import CUSTOMER, VENDOR, ContactKind, kind_of
from .models import Contact

Change = Literal["created", "updated", "deleted"]

EVENT_TYPES: dict[tuple[ContactKind, Change], EventType] = {
    (CUSTOMER, "created"): registry.CUSTOMER_CREATED,
    (CUSTOMER, "updated"): registry.CUSTOMER_UPDATED,
    (CUSTOMER, "deleted"): registry.CUSTOMER_DELETED,
    (VENDOR, "created"): registry.VENDOR_CREATED,
    (VENDOR, "updated"): registry.VENDOR_UPDATED,
    (VENDOR, "deleted"): registry.VENDOR_DELETED,
}


def contact_event_data(*, kind: ContactKind, contact: Contact) -> dict[str, Any]:
    return {
        kind.id_key: str(contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "address": contact.address,
    }


def contact_event_publish(*, contact: Contact, change: Change, data: dict[str, Any] | None = None) -> None:
    """Write the event of ``change`` to the outbox; call inside the change's transaction.

    ``data`` defaults to the contact as it is now; a deletion passes the snapshot taken
    before the row went (the deleted instance has no id any more).
    """
    kind = kind_of(contact)
    data = data if data is not None else contact_event_data(kind=kind, contact=contact)
    publish_event(EVENT_TYPES[kind, change], data=data, aggregate_id=data[kind.id_key])
