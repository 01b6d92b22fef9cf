"""The events contact_svc publishes: contact.<kind>.created|updated|deleted.

Written to the transactional outbox by the services, inside the transaction of the
change, so an event is sent if and only if the change commits (contract §6). Each
carries the contact's ``version`` after the change as ``aggregate_version``, so a
consumer keeping a copy applies only what is newer than what it holds.
"""

from __future__ import annotations

from typing import Literal

from common.events import EventType, publish_event, registry
from common.events.outbox import PendingEvent

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


def contact_event_data(*, kind: ContactKind, contact: Contact) -> registry.CustomerData | registry.VendorData:
    data_class = registry.CustomerData if kind is CUSTOMER else registry.VendorData
    return data_class(
        **{kind.id_key: contact.id},
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        address=contact.address,
    )


def contact_event_publish(
    *,
    contact: Contact,
    change: Change,
    version: int,
    data: registry.CustomerData | registry.VendorData | None = None,
) -> None:
    """Write the event of ``change`` to the outbox; call inside the change's transaction.

    ``version`` is the contact's version after the change (the row is locked by the
    caller). ``data`` defaults to the contact as it is now; a deletion passes the
    snapshot taken before the row went (the deleted instance has no id any more).
    """
    event = contact_event(contact=contact, change=change, version=version, data=data)
    publish_event(event.event_type, data=event.data, aggregate_id=event.aggregate_id, aggregate_version=version)


def contact_event(
    *,
    contact: Contact,
    change: Change,
    version: int,
    data: registry.CustomerData | registry.VendorData | None = None,
) -> PendingEvent:
    """The event :func:`contact_event_publish` writes, for ``publish_events`` (many contacts at once)."""
    kind = kind_of(contact)
    data = data if data is not None else contact_event_data(kind=kind, contact=contact)
    return PendingEvent(
        event_type=EVENT_TYPES[kind, change],
        data=data,
        aggregate_id=getattr(data, kind.id_key),
        aggregate_version=version,
    )
