"""factory_boy factories of customers and vendors (rows written directly, no events)."""

from __future__ import annotations

import factory

from contacts.kinds import CUSTOMER, VENDOR, ContactKind


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    name = factory.Faker("company")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = factory.Faker("numerify", text="+1 ### ### ####")
    address = factory.Faker("address")


class CustomerFactory(ContactFactory):
    class Meta:
        model = CUSTOMER.model


class VendorFactory(ContactFactory):
    class Meta:
        model = VENDOR.model


FACTORIES: dict[ContactKind, type[ContactFactory]] = {CUSTOMER: CustomerFactory, VENDOR: VendorFactory}
