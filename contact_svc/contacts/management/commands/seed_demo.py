"""``manage.py seed_demo``: a few realistic customers and vendors for the local run.

Idempotent, keyed on email: a contact whose email exists is left as it is. Writes go
through the services, so the demo data announces itself with events like any other.
``--ids-json`` prints the demo contacts' ids instead (one JSON object, the summary on
stderr): the local run passes them to sales' and purchase's seed_demo.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from common.exceptions import Conflict
from contacts.kinds import CUSTOMER, VENDOR, ContactKind
from contacts.selectors import contact_get_by_email
from contacts.services import contact_create

DEMO: dict[ContactKind, list[dict[str, str]]] = {
    CUSTOMER: [
        {
            "name": "Acme Retail GmbH",
            "email": "purchasing@acme-retail.example",
            "phone": "+49 30 1234567",
            "address": "Friedrichstraße 10, 10117 Berlin, Germany",
        },
        {
            "name": "Bluebird Cafés Ltd",
            "email": "orders@bluebird-cafes.example",
            "phone": "+44 161 496 0102",
            "address": "8 Piccadilly, Manchester M1 1AA, United Kingdom",
        },
        {
            "name": "Contoso Hospitality",
            "email": "procurement@contoso-hotels.example",
            "phone": "+1 206 555 0142",
            "address": "400 Pine Street, Seattle, WA 98101, USA",
        },
        {
            "name": "Dupont & Fils SARL",
            "email": "achats@dupont-fils.example",
            "phone": "+33 1 23 45 67 89",
            "address": "14 rue de Rivoli, 75004 Paris, France",
        },
        {
            "name": "Evergreen Garden Centres",
            "email": "buying@evergreen-gardens.example",
            "phone": "+61 2 5550 1234",
            "address": "22 George Street, Sydney NSW 2000, Australia",
        },
    ],
    VENDOR: [
        {
            "name": "Northwind Components Ltd",
            "email": "sales@northwind.example",
            "phone": "+44 20 7946 0000",
            "address": "12 Dock Road, London E16 1AA, United Kingdom",
        },
        {
            "name": "Fabrikam Packaging",
            "email": "accounts@fabrikam-pack.example",
            "phone": "+1 312 555 0199",
            "address": "1200 W Lake Street, Chicago, IL 60607, USA",
        },
        {
            "name": "Tailspin Logistics BV",
            "email": "billing@tailspin-logistics.example",
            "phone": "+31 20 555 0123",
            "address": "Havenstraat 5, 1013 AB Amsterdam, Netherlands",
        },
        {
            "name": "Wingtip Office Supply",
            "email": "orders@wingtip-office.example",
            "phone": "+1 646 555 0175",
            "address": "55 Water Street, New York, NY 10041, USA",
        },
        {
            "name": "Litware Electronics AG",
            "email": "vertrieb@litware.example",
            "phone": "+41 44 555 01 23",
            "address": "Bahnhofstrasse 1, 8001 Zürich, Switzerland",
        },
    ],
}


class Command(BaseCommand):
    help = "Create the demo customers and vendors that are missing (keyed on email)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--ids-json", action="store_true", help="Print the demo contacts' ids as JSON (the summary on stderr)."
        )

    def handle(self, *args, ids_json: bool = False, **options) -> None:
        summary = self.stderr if ids_json else self.stdout
        ids: dict[str, list[str]] = {}
        for kind, contacts in DEMO.items():
            created = 0
            for fields in contacts:
                if contact_get_by_email(kind=kind, email=fields["email"]) is not None:
                    continue
                try:
                    contact_create(kind=kind, **fields)
                except Conflict:  # another process seeding at the same time won the race
                    continue
                created += 1
            summary.write(f"{kind.plural}: {created} created, {len(contacts) - created} already present")
            # Looked up again: one an operator deleted is left out, one edited by hand stays in.
            found = (contact_get_by_email(kind=kind, email=fields["email"]) for fields in contacts)
            ids[kind.plural] = [str(contact.pk) for contact in found if contact is not None]
        if ids_json:
            self.stdout.write(json.dumps(ids))
