"""Django admin of items and the stock ledger; every write goes through the services.

Stock is never edited as a number: an item's form has no quantity field, the ledger
is read-only, and the one way to change stock by hand is the "Adjust stock" action,
which asks for a signed change and a reason and calls :func:`stock_adjust` (all the
selected items or none, recorded as adjustments like any other). Who may do which
follows the role matrix (common.admin): adjusting is ``stock.adjust``, deleting an
item ``items.delete``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import F, Q
from django.urls import reverse
from django.utils.html import format_html

from common.admin import RoleAdminMixin, ServiceErrorsAdminMixin, action_form_page, role_action, service_error_text
from common.csvadmin import CsvImportExportAdminMixin
from common.exceptions import ServiceError

from . import imports
from .models import Backorder, Item, StockMovement
from .services import EDITABLE_FIELDS, MAX_QUANTITY, item_create, item_delete, item_update, stock_adjust


class BelowReorderLevelFilter(admin.SimpleListFilter):
    title = "stock against reorder level"
    parameter_name = "below_reorder_level"

    def lookups(self, request, model_admin):
        return [("true", "At or below reorder level"), ("false", "Above reorder level")]

    def queryset(self, request, queryset):
        at_or_below = Q(quantity__lte=F("reorder_level"))
        if self.value() == "true":
            return queryset.filter(at_or_below)
        if self.value() == "false":
            return queryset.exclude(at_or_below)
        return queryset


class StockAdjustmentForm(forms.Form):
    change = forms.IntegerField(
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text="Signed: 5 adds five units to each selected item, -2 takes two away.",
    )
    reason = forms.CharField(max_length=255, help_text="Kept on each movement, e.g. 'stocktake 2026-12'.")

    def clean_change(self) -> int:
        value = self.cleaned_data["change"]
        if value == 0:
            raise forms.ValidationError("Must be a non-zero change.")
        return value


@admin.register(Item)
class ItemAdmin(RoleAdminMixin, CsvImportExportAdminMixin, ServiceErrorsAdminMixin, admin.ModelAdmin):
    role_permissions = {"view": "items.read", "add": "items.write", "change": "items.write", "delete": "items.delete"}
    list_display = (
        "sku",
        "name",
        "unit_price",
        "quantity_on_hand",
        "quantity_backordered",
        "reorder_level",
        "active",
        "ledger",
        "created_at",
    )
    # (the queue of an item is the Backorder list, filtered by item: a link, not an inline, since nothing
    # on it is edited here)
    search_fields = ("sku", "name")
    list_filter = (BelowReorderLevelFilter, "active", "created_at")
    readonly_fields = ("id", "quantity_on_hand", "quantity_backordered", "created_at", "updated_at")
    fields = (
        "id",
        "sku",
        "name",
        "description",
        "unit_price",
        "reorder_level",
        "active",
        "max_level",
        "quantity_on_hand",
        "quantity_backordered",
        "created_at",
        "updated_at",
    )
    ordering = ("-created_at",)
    actions = ("adjust_stock", "export_csv")
    csv_import_permission, csv_export_permission = "items.write", "items.read"
    csv_columns, csv_key = imports.COLUMNS, "sku"

    def csv_import(self, request, *, data: bytes, dry_run: bool):
        may_adjust = self.role_allows(request, "stock.adjust")
        return imports.item_import(data=data, actor=request.user.get_username(), dry_run=dry_run, may_adjust=may_adjust)

    def csv_export(self, queryset):
        return imports.item_export(items=queryset.iterator())

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(quantity=F("stock__quantity"), backordered=F("stock__backordered"))
        )

    @admin.display(description="on hand", ordering="quantity")
    def quantity_on_hand(self, obj: Item) -> int | None:
        return getattr(obj, "quantity", None)

    @admin.display(description="backordered", ordering="backordered")
    def quantity_backordered(self, obj: Item) -> int | None:
        return getattr(obj, "backordered", None)

    @admin.display(description="ledger")
    def ledger(self, obj: Item) -> str:
        movements = reverse("admin:inventory_stockmovement_changelist")
        backorders = reverse("admin:inventory_backorder_changelist")
        return format_html(
            '<a href="{}?item__id__exact={}">movements</a> · <a href="{}?item__id__exact={}">open backorders</a>',
            movements,
            obj.pk,
            backorders,
            obj.pk,
        )

    def save_model(self, request, obj: Item, form, change: bool) -> None:
        data = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS if field in form.cleaned_data}
        if change:
            item_update(item=obj, data=data)
        else:
            created = item_create(**data)
            # The admin goes on with ``obj`` (log entry, redirect): give it the new row's identity.
            obj.pk = created.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj: Item) -> None:
        item_delete(item=obj)

    def delete_queryset(self, request, queryset) -> None:
        # One service call per item; the admin has already refused items with a ledger
        # (the movements protect them), and the service checks again under its locks.
        for item in queryset:
            item_delete(item=item)

    @role_action(permission="stock.adjust", description="Adjust stock of the selected items")
    def adjust_stock(self, request, queryset):
        form = StockAdjustmentForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            change, reason = form.cleaned_data["change"], form.cleaned_data["reason"]
            try:
                stock_adjust(
                    changes={item.pk: change for item in queryset}, note=reason, actor=request.user.get_username()
                )
            except ServiceError as exc:
                self.message_user(request, f"Nothing was changed: {service_error_text(exc)}", messages.ERROR)
                return None
            self.message_user(request, f"Stock of {queryset.count()} item(s) changed by {change:+d}.", messages.SUCCESS)
            return None
        return action_form_page(
            self,
            request,
            action="adjust_stock",
            submit="Adjust stock",
            title="Adjust stock",
            template="admin/inventory/item/adjust_stock.html",
            form=form,
            items=queryset,
        )


@admin.register(StockMovement)
class StockMovementAdmin(RoleAdminMixin, admin.ModelAdmin):
    """The ledger: looked at, filtered, never written by hand (not even by an admin)."""

    role_permissions = {"view": "stock.read", "add": None, "change": None, "delete": None}
    list_display = (
        "created_at",
        "item",
        "change",
        "quantity_after",
        "reason",
        "reference",
        "receipt_id",
        "fill",
        "actor",
        "note",
    )
    list_filter = ("reason", ("item", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("item__sku", "item__name", "actor", "note")
    list_select_related = ("item",)
    ordering = ("-created_at", "-id")


class OpenBackorderFilter(admin.SimpleListFilter):
    """Open (still waiting) by default: the queues as they are now; dropped or filled ones on request."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("all", "Open and closed")]

    def queryset(self, request, queryset):
        return queryset if self.value() == "all" else queryset.filter(quantity_open__gt=0)


@admin.register(Backorder)
class BackorderAdmin(RoleAdminMixin, admin.ModelAdmin):
    """What confirmed sales orders wait for, per item, oldest confirmation first: the order they are filled in."""

    role_permissions = {"view": "stock.read", "add": None, "change": None, "delete": None}
    list_display = ("confirmed_at", "item", "order_id", "quantity", "quantity_open", "quantity_dropped", "fills")
    list_filter = (OpenBackorderFilter, ("item", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=order_id", "item__sku")
    list_select_related = ("item",)
    ordering = ("item__sku", "confirmed_at", "order_id")
