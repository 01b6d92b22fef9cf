"""The two kinds of contact, and what differs between them, declared once as data.

Services, selectors, the API, the admin and the events take a :class:`ContactKind`
instead of being written once for customers and again for vendors.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Contact, Customer, Vendor


@dataclass(frozen=True)
class ContactKind:
    name: str  # "customer": event names, the id key in event data, messages
    plural: str  # "customers": the URL prefix
    model: type[Contact]
    orders_service: str  # whose orders name this kind as their party, asked before a delete (common.uses)

    @property
    def title(self) -> str:
        return self.name.capitalize()

    @property
    def id_key(self) -> str:
        return f"{self.name}_id"

    def __str__(self) -> str:
        return self.name


CUSTOMER = ContactKind(name="customer", plural="customers", model=Customer, orders_service="sales")
VENDOR = ContactKind(name="vendor", plural="vendors", model=Vendor, orders_service="purchase")
KINDS = (CUSTOMER, VENDOR)

_BY_MODEL = {kind.model: kind for kind in KINDS}


def kind_of(contact: Contact) -> ContactKind:
    return _BY_MODEL[type(contact)]
