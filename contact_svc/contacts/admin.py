"""Django admin of customers and vendors; every save and delete goes through the services.

So an operator's edit is validated, lower-cased and reported by an event exactly
like an API call (the admin's own ``obj.save()`` would write no event). Deleting is
``contacts.delete`` in the role matrix (common.admin).
"""

from __future__ import annotations

from django.contrib import admin

from common.admin import RoleAdminMixin, ServiceErrorsAdminMixin
from common.csvadmin import CsvImportExportAdminMixin

from .imports import COLUMNS, contact_export, contact_import
from .kinds import CUSTOMER, KINDS, VENDOR, kind_of
from .models import Contact
from .services import EDITABLE_FIELDS, contact_create, contact_delete, contact_update


class ContactAdmin(RoleAdminMixin, CsvImportExportAdminMixin, ServiceErrorsAdminMixin, admin.ModelAdmin):
    role_permissions = {
        "view": "contacts.read",
        "add": "contacts.write",
        "change": "contacts.write",
        "delete": "contacts.delete",
    }
    list_display = ("name", "email", "phone", "active", "created_at")
    search_fields = ("name", "email")
    list_filter = ("active", "created_at")
    readonly_fields = ("id", "created_at", "updated_at")
    fields = ("id", "name", "email", "phone", "address", "active", "created_at", "updated_at")
    ordering = ("-created_at",)
    actions = ("export_csv",)
    csv_import_permission, csv_export_permission = "contacts.write", "contacts.read"
    csv_columns, csv_key = COLUMNS, "email"

    def csv_import(self, request, *, data: bytes, dry_run: bool):
        kind = next(kind for kind in KINDS if kind.model is self.model)
        return contact_import(kind=kind, data=data, dry_run=dry_run)

    def csv_export(self, queryset):
        return contact_export(contacts=queryset.iterator())

    def save_model(self, request, obj: Contact, form, change: bool) -> None:
        data = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS if field in form.cleaned_data}
        if change:
            contact_update(contact=obj, data=data)
        else:
            created = contact_create(kind=kind_of(obj), **data)
            # The admin goes on with ``obj`` (log entry, redirect): give it the new row's identity.
            obj.pk = created.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj: Contact) -> None:
        contact_delete(contact=obj)

    def delete_queryset(self, request, queryset) -> None:
        # One service call per row, so each deletion writes its own event.
        for contact in queryset:
            contact_delete(contact=contact)


admin.site.register(CUSTOMER.model, ContactAdmin)
admin.site.register(VENDOR.model, ContactAdmin)
