"""Django admin of purchase orders: drafts entered, read-only orders, lines, receipts and history; writes as actions.

A draft is entered, and its lines changed while it is one, on the order entry page
(common.admin_entry, order_documents.forms): the vendor and the items picked by searching contact_svc and
inventory_svc, the body checked by the API's serializer and saved by the API's services
(:func:`purchase_order_create`, :func:`purchase_order_lines_replace`), for whoever holds
``orders.write``. Nothing else is editable: status, quantities and totals change only through the services,
which the actions call one order at a time (the same services as the API, so a receipt
writes its event, and inventory adds the stock, like any other), each order reporting its
own success or refusal. "Record a receipt" asks, for one order, how many units of each
item still expected arrived and calls :func:`purchase_order_receipt_create`; "Close short" calls
:func:`purchase_order_close`. Who may look and which actions they are offered follow the
role matrix (common.admin, common.roles: ``purchase.receive``, ``orders.pay``,
``purchase.cancel``).

Replenishment: orders filter by ``origin``; vendor items have their own admin, whose saves
and deletions call :mod:`purchasing.vendor_items` (vendor and item checked with their
services); "Items needing a vendor" lists what replenishment could not order.
Receipts have a read-only list of their own too (what the back office's home counts per day).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db.models import Max
from django.urls import reverse
from django.utils.html import format_html

from common.admin import (
    RoleAdminMixin,
    ServiceErrorsAdminMixin,
    action_form_page,
    each_through_service,
    role_action,
    service_error_text,
)
from common.admin_entry import ServiceEntryAdminMixin
from common.exceptions import ServiceError
from order_documents.forms import OrderEntry, Party
from order_documents.lines import line_requests

from .api.serializers import PurchaseOrderCreateSerializer, PurchaseOrderLinesSerializer
from .models import (
    LowStockItem,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatusChange,
    PurchaseReceipt,
    VendorItem,
)
from .receipts import ReceiptRequest
from .selectors import replenishment_need_list
from .services import (
    purchase_order_cancel,
    purchase_order_close,
    purchase_order_create,
    purchase_order_lines_replace,
    purchase_order_pay,
    purchase_order_receipt_create,
    purchase_order_receive,
)
from .transitions import EDITABLE
from .vendor_items import EDITABLE_FIELDS as VENDOR_ITEM_EDITABLE
from .vendor_items import vendor_item_create, vendor_item_delete, vendor_item_update

READ_ONLY = {"view": "orders.read", "add": None, "change": None, "delete": None}


class PurchaseOrderLineInline(RoleAdminMixin, admin.TabularInline):
    model = PurchaseOrderLine
    role_permissions = READ_ONLY
    fields = ("position", "sku", "name", "item_id", "quantity", "quantity_received", "unit_price", "subtotal")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)


class PurchaseReceiptInline(RoleAdminMixin, admin.TabularInline):
    """The order's receipts, oldest first, each with what it received: written by the receipts, never by hand."""

    model = PurchaseReceipt
    role_permissions = READ_ONLY
    fields = ("id", "created_at", "received", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__line")

    @admin.display(description="received")
    def received(self, obj: PurchaseReceipt) -> str:
        return ", ".join(f"{line.quantity} x {line.line.sku}" for line in obj.lines.all())


class ReceiptForm(forms.Form):
    """One field per item the order still expects: how many of its units arrived.

    Per item, not per line, because that is what the service takes (and the API): an item
    on several lines fills them in their order, so a field per line would promise a line
    the units may not go to. Each field is named by the item's first open line.
    """

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        by_item: dict[uuid.UUID, list[PurchaseOrderLine]] = {}
        for line in sorted(lines, key=lambda line: line.position):
            by_item.setdefault(line.item_id, []).append(line)
        self.items: dict[str, uuid.UUID] = {}  # field name -> item
        for item_id, item_lines in by_item.items():
            open_lines = [line for line in item_lines if line.quantity_open]
            if not open_lines:
                continue
            first, quantity_open = open_lines[0], sum(line.quantity_open for line in item_lines)
            ordered, received = (
                sum(line.quantity for line in item_lines),
                sum(line.quantity_received for line in item_lines),
            )
            self.items[str(first.pk)] = item_id
            self.fields[str(first.pk)] = forms.IntegerField(
                label=f"{first.sku} {first.name}",
                min_value=0,
                max_value=quantity_open,
                initial=0,
                help_text=f"ordered {ordered}, received {received}, open {quantity_open}",
            )

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in self.items):
            raise forms.ValidationError("Enter what arrived on at least one line.")
        return cleaned

    def requests(self) -> list[ReceiptRequest]:
        return [
            ReceiptRequest(item_id=item_id, quantity=self.cleaned_data[name])
            for name, item_id in self.items.items()
            if self.cleaned_data[name]
        ]


class PurchaseOrderStatusChangeInline(RoleAdminMixin, admin.TabularInline):
    """The order's status history, oldest first: written by the transitions, never by hand."""

    model = PurchaseOrderStatusChange
    role_permissions = READ_ONLY
    fields = ("created_at", "from_status", "to_status", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "status history"


class VendorListFilter(admin.SimpleListFilter):
    """Orders of one vendor, chosen among the vendors that have orders."""

    title = "vendor"
    parameter_name = "vendor_id"

    def lookups(self, request, model_admin):
        # The newest copied name per vendor: one row each, even while a rename is on its way.
        rows = PurchaseOrder.objects.values("vendor_id").annotate(name=Max("vendor_name"))
        rows = rows.order_by("name", "vendor_id")
        return [(str(row["vendor_id"]), row["name"]) for row in rows]

    def queryset(self, request, queryset):
        # A value that is not a UUID raises here; the changelist shows it as a bad lookup (?e=1).
        return queryset.filter(vendor_id=self.value()) if self.value() else queryset


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ServiceEntryAdminMixin, RoleAdminMixin, admin.ModelAdmin):
    # Entered on the order entry page, through the API's serializers and services; nothing of
    # an order is edited field by field, and nothing deleted.
    role_permissions = {"view": "orders.read", "add": "orders.write", "change": "orders.write", "delete": None}
    entry = OrderEntry(party=Party(field="vendor_id", path="/vendors", kind="vendor"), statuses=EDITABLE)
    list_display = (
        "id",
        "vendor_name",
        "status",
        "total_amount",
        "received_amount",
        "closed_short",
        "origin",
        "created_at",
        "received_at",
        "paid_at",
    )
    list_filter = ("status", "origin", "closed_short", VendorListFilter, "created_at")
    search_fields = ("=id", "vendor_name", "=vendor_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_per_page = 50
    inlines = (PurchaseOrderLineInline, PurchaseReceiptInline, PurchaseOrderStatusChangeInline)
    actions = ("record_receipt", "receive", "close_short", "pay", "cancel")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in PurchaseOrder._meta.fields]

    def entry_serializer(self, *, obj):
        return PurchaseOrderCreateSerializer if obj is None else PurchaseOrderLinesSerializer

    def entry_save(self, request, *, obj, data) -> PurchaseOrder:
        # What the API's perform_create and perform_update call, with the same validated data.
        lines = line_requests(data["items"])
        if obj is None:
            return purchase_order_create(vendor_id=data["vendor_id"], lines=lines)
        return purchase_order_lines_replace(order_id=obj.pk, lines=lines)

    @role_action(permission="purchase.receive", description="Receive selected orders")
    def receive(self, request, queryset):
        self._each(request, queryset, purchase_order_receive, "Receive selected orders")

    @role_action(permission="purchase.receive", description="Record a receipt (one order)")
    def record_receipt(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one order to record a receipt.", messages.ERROR)
            return None
        order = queryset.get()
        lines = list(order.lines.order_by("position"))
        form = ReceiptForm(request.POST if "apply" in request.POST else None, lines=lines)
        if form.is_bound and form.is_valid():
            try:
                purchase_order_receipt_create(
                    order_id=order.pk, items=form.requests(), actor=request.user.get_username()
                )
            except ServiceError as exc:
                self.message_user(request, f"Nothing was recorded: {service_error_text(exc)}", messages.ERROR)
                return None
            order.refresh_from_db()
            self.message_user(request, f"Receipt recorded: order {order.pk} is {order.status}.", messages.SUCCESS)
            return None
        return action_form_page(
            self,
            request,
            action="record_receipt",
            submit="Record receipt",
            title="Record a receipt",
            template="admin/purchasing/purchaseorder/record_receipt.html",
            form=form,
            order=order,
        )

    @role_action(permission="purchase.receive", description="Close selected orders short")
    def close_short(self, request, queryset):
        self._each(request, queryset, purchase_order_close, "Close selected orders short")

    @role_action(permission="orders.pay", description="Mark selected orders paid")
    def pay(self, request, queryset):
        self._each(request, queryset, purchase_order_pay, "Mark selected orders paid")

    @role_action(permission="purchase.cancel", description="Cancel selected orders")
    def cancel(self, request, queryset):
        self._each(request, queryset, purchase_order_cancel, "Cancel selected orders")

    def _each(self, request, queryset, service: Callable[..., PurchaseOrder], label: str) -> None:
        """Run the transition ``service`` on each selected order, as the signed-in staff member."""
        each_through_service(
            self,
            request,
            queryset,
            call=lambda order: service(order_id=order.pk, actor=request.user.get_username()),
            name=lambda order: str(order.pk),
            success=f"{label}: {{done}} order(s).",
        )


@admin.register(VendorItem)
class VendorItemAdmin(RoleAdminMixin, ServiceErrorsAdminMixin, admin.ModelAdmin):
    """What each vendor sells: created and changed through the services, as the API does."""

    role_permissions = {
        "view": "orders.read",
        "add": "vendor_items.write",
        "change": "vendor_items.write",
        "delete": "vendor_items.write",
    }
    list_display = ("sku", "vendor_name", "vendor_sku", "unit_cost", "pack_size", "min_order_quantity", "preferred")
    list_filter = ("preferred", "vendor_name")
    search_fields = ("sku", "vendor_sku", "vendor_name", "=item_id", "=vendor_id")
    fields = (
        "vendor_id",
        "item_id",
        "vendor_name",
        "sku",
        "vendor_sku",
        "unit_cost",
        "lead_time_days",
        "min_order_quantity",
        "pack_size",
        "preferred",
    )
    ordering = ("sku", "vendor_name")

    def get_readonly_fields(self, request, obj=None):
        # Vendor and item are fixed once created; the names are copied from their services.
        return ("vendor_id", "item_id", "vendor_name", "sku") if obj else ("vendor_name", "sku")

    def save_model(self, request, obj: VendorItem, form, change: bool) -> None:
        data = {field: form.cleaned_data[field] for field in VENDOR_ITEM_EDITABLE if field in form.cleaned_data}
        if change:
            vendor_item_update(vendor_item_id=obj.pk, data=data)
        else:
            created = vendor_item_create(vendor_id=obj.vendor_id, item_id=obj.item_id, **data)
            obj.pk = created.pk  # the admin goes on with ``obj`` (log entry, redirect)
        obj.refresh_from_db()

    def delete_model(self, request, obj: VendorItem) -> None:
        vendor_item_delete(vendor_item_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for vendor_item in queryset:
            vendor_item_delete(vendor_item_id=vendor_item.pk)


@admin.register(LowStockItem)
class LowStockItemAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Items needing a vendor: low stock replenishment could not order, for want of a preferred vendor item."""

    role_permissions = READ_ONLY
    list_display = ("sku", "quantity", "backordered", "reorder_level", "max_level", "on_order", "needed", "updated_at")
    search_fields = ("sku", "=item_id")
    list_display_links = None

    def get_queryset(self, request):
        return replenishment_need_list()

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in LowStockItem._meta.fields]

    @admin.display(description="on order")
    def on_order(self, obj) -> int:
        return obj.on_order

    @admin.display(description="needed")
    def needed(self, obj) -> int:
        return obj.needed


@admin.register(PurchaseReceipt)
class PurchaseReceiptAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Every receipt, newest first: what the back office's home counts per day, listed (recorded on the orders)."""

    role_permissions = READ_ONLY
    list_display = ("id", "order_link", "created_at", "received", "actor", "stock_refused_at")
    list_filter = ("created_at",)
    search_fields = ("=id", "=order__id", "order__vendor_name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 50
    list_select_related = ("order",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__line")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in PurchaseReceipt._meta.fields]

    @admin.display(description="order", ordering="order__created_at")
    def order_link(self, obj: PurchaseReceipt) -> str:
        url = reverse("admin:purchasing_purchaseorder_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.vendor_name or obj.order_id)

    # The same column as on the order's receipts.
    received = PurchaseReceiptInline.received
