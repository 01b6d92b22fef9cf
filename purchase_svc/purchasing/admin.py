"""Django admin of purchase orders: read-only orders, lines and status history; receive, pay and cancel as actions.

Nothing here is editable: status and totals change only through the services, which the
actions call one order at a time (the same services as the API, so a reception writes its
event, and inventory adds the stock, like any other), each order reporting its own success
or refusal. Who may look and which actions they are offered follow the role matrix
(common.admin, common.roles: ``purchase.receive``, ``orders.pay``, ``purchase.cancel``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Max

from common.admin import RoleAdminMixin, each_through_service, role_action

from .models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatusChange
from .services import purchase_order_cancel, purchase_order_pay, purchase_order_receive

READ_ONLY = {"view": "orders.read", "add": None, "change": None, "delete": None}


class PurchaseOrderLineInline(RoleAdminMixin, admin.TabularInline):
    model = PurchaseOrderLine
    role_permissions = READ_ONLY
    fields = ("position", "sku", "name", "item_id", "quantity", "unit_price", "subtotal")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)


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
class PurchaseOrderAdmin(RoleAdminMixin, admin.ModelAdmin):
    # View only: creating checks the vendor and items with their services (the API's job),
    # and there is nothing an operator may edit or delete by hand (no save button either).
    role_permissions = READ_ONLY
    list_display = ("id", "vendor_name", "status", "total_amount", "created_at", "received_at", "paid_at")
    list_filter = ("status", VendorListFilter, "created_at")
    search_fields = ("=id", "vendor_name", "=vendor_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_per_page = 50
    inlines = (PurchaseOrderLineInline, PurchaseOrderStatusChangeInline)
    actions = ("receive", "pay", "cancel")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in PurchaseOrder._meta.fields]

    @role_action(permission="purchase.receive", description="Receive selected orders")
    def receive(self, request, queryset):
        self._each(request, queryset, purchase_order_receive, "Receive selected orders")

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
