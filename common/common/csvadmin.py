"""The CSV import and export in a ModelAdmin, through the same functions as the API (common.csvviews).

:class:`CsvImportExportAdminMixin` adds an "Import CSV" page to a changelist and an "Export
selected as CSV" action. The page takes a file and previews it first: the import function
runs as a dry run and the page shows what it would do (counts, or every bad cell). Importing
takes the same file again, and only a file whose SHA-256 is that of the file previewed: the
preview keeps nothing on the server (a file of 16 MiB in a session or a form field would
not fit, and the next request may reach another replica), so what is imported is exactly
what was looked at.

Not django-import-export: its resources save model instances themselves
(``Resource.save_instance``), past the services, so an item's stock would be set without a
movement and a contact changed without its event. Here the admin calls the service functions
the API calls, and the role matrix decides who may (``csv_import_permission``,
``csv_export_permission``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .admin import role_action
from .csvfiles import MEDIA_TYPE
from .exceptions import ServiceError


class CsvImportForm(forms.Form):
    file = forms.FileField(help_text="UTF-8 CSV with a header row.")
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)


def _export_action(modeladmin, request, queryset):
    response = StreamingHttpResponse(modeladmin.csv_export(queryset), content_type=f"{MEDIA_TYPE}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{modeladmin.model._meta.model_name}s.csv"'
    return response


class CsvImportExportAdminMixin:
    """Use with :class:`common.admin.RoleAdminMixin`; name the hooks, the two permissions, and list
    ``"export_csv"`` in ``actions``."""

    csv_import_permission: str
    csv_export_permission: str
    csv_columns: tuple[str, ...]
    csv_key: str
    change_list_template = "admin/csv_change_list.html"

    def csv_import(self, request, *, data: bytes, dry_run: bool) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.csv_import must call the import service")

    def csv_export(self, queryset) -> Iterator[bytes]:
        raise NotImplementedError(f"{type(self).__name__}.csv_export must return the CSV file's chunks")

    def __init_subclass__(cls, **kwargs):
        # The export action names the subclass's permission (role_action), so each admin gets its own.
        super().__init_subclass__(**kwargs)
        permission = cls.__dict__.get("csv_export_permission")
        if permission:

            def export_csv(modeladmin, request, queryset):
                return _export_action(modeladmin, request, queryset)

            cls.export_csv = role_action(permission=permission, description="Export selected as CSV")(export_csv)

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_import"
        return [path("import/", self.admin_site.admin_view(self.import_view), name=name), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if self.role_allows(request, self.csv_import_permission):
            opts = self.model._meta
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_import")
            extra_context = {**(extra_context or {}), "csv_import_url": url}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.role_allows(request, self.csv_import_permission):
            raise PermissionDenied
        form = CsvImportForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {}
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data["file"].read()
            digest = hashlib.sha256(data).hexdigest()
            confirmed = "import" in request.POST and form.cleaned_data["previewed"] == digest
            if "import" in request.POST and not confirmed:
                self.message_user(request, "This file is not the one previewed: here is its preview.", messages.WARNING)
            try:
                result = self.csv_import(request, data=data, dry_run=not confirmed)
            except ServiceError as exc:
                context["refusal"] = exc
            else:
                if confirmed:
                    self.message_user(request, f"Imported: {self._counts(result)}.", messages.SUCCESS)
                    return TemplateResponse(request, "admin/csv_import.html", self._context(request, CsvImportForm()))
                context.update(preview=self._counts(result), digest=digest)
                form = CsvImportForm(initial={"previewed": digest})
        return TemplateResponse(request, "admin/csv_import.html", self._context(request, form, **context))

    def _context(self, request, form, **context) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": f"Import {self.model._meta.verbose_name_plural} from CSV",
            "opts": self.model._meta,
            "form": form,
            "columns": ",".join(self.csv_columns),
            "key": self.csv_key,
            **context,
        }

    @staticmethod
    def _counts(result) -> str:
        names = ("created", "updated", "unchanged", "stock_adjusted")
        return ", ".join(f"{getattr(result, n)} {n.replace('_', ' ')}" for n in names if hasattr(result, n))
