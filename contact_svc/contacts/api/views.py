"""The REST API of customers and vendors: one viewset, subclassed per kind.

Views parse, call one selector or service, render (common.views.ServiceModelViewSet);
filtering is the global backends' (common.filters). Roles come from common.roles through
``required_permissions``; service tokens of sales and purchase may only read one contact
(``retrieve``), several by id (``lookup``) or search the list (``list``: the back office's
order entry, which asks for a staff member allowed to read contacts), the internal reads
those services make.
"""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from common.csvviews import CsvImportExportMixin, export_schema, import_schema
from common.roles import roles_text
from common.views import ServiceModelViewSet
from contacts.filters import ORDERING_FIELDS, SEARCH_FIELDS, ContactFilter
from contacts.imports import COLUMNS, contact_export, contact_import
from contacts.kinds import CUSTOMER, VENDOR, ContactKind
from contacts.selectors import contact_list, contact_list_by_ids
from contacts.services import contact_create, contact_delete, contact_update

from .serializers import (
    MAX_LOOKUP_IDS,
    ContactLookupQuerySerializer,
    ContactSerializer,
    CustomerSerializer,
    VendorSerializer,
)

READ, WRITE, DELETE = "contacts.read", "contacts.write", "contacts.delete"
# The internal reads, and who makes them: the order services check an order's party, and their
# admins search the list for it (order_documents.references.party_search).
ORDER_SERVICES = frozenset({"sales", "purchase"})
SERVICE_ACTIONS = {"retrieve": ORDER_SERVICES, "lookup": ORDER_SERVICES, "list": ORDER_SERVICES}


class ContactViewSet(CsvImportExportMixin, ServiceModelViewSet):
    """The contacts of one ``kind``; a subclass per kind names it and its serializer."""

    kind: ClassVar[ContactKind]
    serializer_class: ClassVar[type[ContactSerializer]]
    filterset_class = ContactFilter
    search_fields = SEARCH_FIELDS
    ordering_fields = ORDERING_FIELDS
    required_permissions: ClassVar[dict[str, str]] = {
        "list": READ,
        "retrieve": READ,
        "lookup": READ,
        "create": WRITE,
        "update": WRITE,
        "partial_update": WRITE,
        "destroy": DELETE,
        "import_csv": WRITE,
        "export_csv": READ,
    }
    service_actions = SERVICE_ACTIONS

    def get_queryset(self):
        return contact_list(kind=self.kind)

    def csv_import(self, *, data, dry_run):
        return contact_import(kind=self.kind, data=data, dry_run=dry_run)

    def csv_export(self, queryset):
        return contact_export(contacts=queryset)

    def perform_create(self, serializer):
        serializer.instance = contact_create(kind=self.kind, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = contact_update(contact=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        contact_delete(contact=instance)

    # Ids in, rows out: neither paginated nor filtered (nor so documented).
    @action(detail=False, methods=["get"], url_path="lookup", pagination_class=None, filter_backends=[])
    def lookup(self, request):
        query = ContactLookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        contacts = contact_list_by_ids(kind=self.kind, ids=query.validated_data["ids"])
        return Response(self.get_serializer(contacts, many=True).data)

    @property
    def csv_filename(self) -> str:
        return f"{self.kind.plural}.csv"


def _roles(permission: str, *, service: bool = False) -> str:
    text = roles_text(permission)
    if service:
        text += " Service tokens of sales and purchase are accepted too (their internal read)."
    return text


_EXAMPLES = {
    CUSTOMER.name: {
        "name": "Acme Retail GmbH",
        "email": "purchasing@acme-retail.example",
        "phone": "+49 30 1234567",
        "address": "Friedrichstraße 10, 10117 Berlin, Germany",
    },
    VENDOR.name: {
        "name": "Northwind Components Ltd",
        "email": "sales@northwind.example",
        "phone": "+44 20 7946 0000",
        "address": "12 Dock Road, London E16 1AA, United Kingdom",
    },
}


def contact_schema(kind: ContactKind, serializer: type[ContactSerializer]) -> dict:
    """Return the OpenAPI description of each action of ``kind``'s viewset (for extend_schema_view).

    The list's query parameters are not here: the filters describe them (common.filters).
    """
    plural = kind.plural
    return dict(
        list=extend_schema(
            summary=f"List {plural}",
            description=f"Paginated, newest first unless `ordering` says otherwise. {_roles(READ, service=True)}",
            responses={200: serializer(many=True)},
        ),
        retrieve=extend_schema(
            summary=f"Get a {kind.name}",
            description=_roles(READ, service=True),
            responses={200: serializer},
        ),
        lookup=extend_schema(
            summary=f"Get several {plural} by id",
            description=f"Returns the {plural} found, in the order asked; unknown ids are left out. "
            f"At most {MAX_LOOKUP_IDS} ids. {_roles(READ, service=True)}",
            operation_id=f"{plural}_lookup",
            parameters=[
                OpenApiParameter(
                    "ids",
                    str,
                    required=True,
                    description=f"Comma-separated {kind.name} ids (UUIDs), at most {MAX_LOOKUP_IDS}.",
                )
            ],
            responses={200: serializer(many=True)},
        ),
        create=extend_schema(
            summary=f"Create a {kind.name}",
            description=f"The email is lower-cased; a duplicate within {plural} (any case) is a 409. {_roles(WRITE)}",
            request=serializer,
            responses={201: serializer},
            examples=[OpenApiExample(f"New {kind.name}", value=_EXAMPLES[kind.name], request_only=True)],
        ),
        update=extend_schema(
            summary=f"Replace a {kind.name}",
            description=f"Every field is replaced: omitted `phone`/`address` become blank. {_roles(WRITE)}",
            request=serializer,
            responses={200: serializer},
        ),
        partial_update=extend_schema(
            summary=f"Amend a {kind.name}",
            description=f"Only the fields given change. {_roles(WRITE)}",
            request=serializer,
            responses={200: serializer},
        ),
        destroy=extend_schema(
            summary=f"Delete a {kind.name}",
            description=_roles(DELETE),
            responses={204: None},
        ),
        import_csv=import_schema(
            noun=plural,
            columns=",".join(COLUMNS),
            key="email",
            extra=f"`name` and `email` are required for a new {kind.name}; each row is created or updated as "
            "`POST` or `PATCH` would, with the same events. ",
            roles=_roles(WRITE),
        ),
        export_csv=export_schema(noun=plural, roles=_roles(READ)),
    )


@extend_schema_view(**contact_schema(CUSTOMER, CustomerSerializer))
class CustomerViewSet(ContactViewSet):
    kind = CUSTOMER
    serializer_class = CustomerSerializer


@extend_schema_view(**contact_schema(VENDOR, VendorSerializer))
class VendorViewSet(ContactViewSet):
    kind = VENDOR
    serializer_class = VendorSerializer
