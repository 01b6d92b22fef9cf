"""Django admin of sales orders: read-only orders, lines and status history; confirm, pay and cancel as actions.

Nothing here is editable: status and totals change only through the services, which the
actions call one order at a time (the same services as the API, so an operator's
confirmation checks stock and writes its event like any other), each order reporting its
own success or refusal. Who may look and which actions they are offered follow the role
matrix (common.admin, common.roles: confirm and cancel ``sales.*``, pay ``orders.pay``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Max

from common.admin import RoleAdminMixin, each_through_service, role_action

from .models import SalesOrder, SalesOrderLine, SalesOrderStatusChange
from .selectors import sales_order_list_stuck_pending
from .services import sales_order_cancel, sales_order_confirm, sales_order_pay

READ_ONLY = {"view": "orders.read", "add": None, "change": None, "delete": None}


class SalesOrderLineInline(RoleAdminMixin, admin.TabularInline):
    model = SalesOrderLine
    role_permissions = READ_ONLY
    fields = (
        "position",
        "sku",
        "name",
        "item_id",
        "quantity",
        "quantity_issued",
        "quantity_backordered",
        "unit_price",
        "subtotal",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)


class SalesOrderStatusChangeInline(RoleAdminMixin, admin.TabularInline):
    """The order's status history, oldest first: written by the transitions, never by hand."""

    model = SalesOrderStatusChange
    role_permissions = READ_ONLY
    fields = ("created_at", "from_status", "to_status", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "status history"


class CustomerListFilter(admin.SimpleListFilter):
    """Orders of one customer, chosen among the customers that have orders."""

    title = "customer"
    parameter_name = "customer_id"

    def lookups(self, request, model_admin):
        # The newest copied name per customer: one row each, even while a rename is on its way.
        rows = (
            SalesOrder.objects.values("customer_id").annotate(name=Max("customer_name")).order_by("name", "customer_id")
        )
        return [(str(row["customer_id"]), row["name"]) for row in rows]

    def queryset(self, request, queryset):
        # A value that is not a UUID raises here; the changelist shows it as a bad lookup (?e=1).
        return queryset.filter(customer_id=self.value()) if self.value() else queryset


class StuckPendingListFilter(admin.SimpleListFilter):
    """Orders waiting for inventory's answer past ``ERP["PENDING_STUCK_AFTER"]`` (the selector /metrics counts)."""

    title = "waiting for inventory"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("pending", "too long (stuck pending)")]

    def queryset(self, request, queryset):
        if self.value() != "pending":
            return queryset
        return queryset.filter(pk__in=sales_order_list_stuck_pending().values("pk"))


@admin.register(SalesOrder)
class SalesOrderAdmin(RoleAdminMixin, admin.ModelAdmin):
    # View only: creating checks the customer and items with their services (the API's job),
    # and there is nothing an operator may edit or delete by hand (no save button either).
    role_permissions = READ_ONLY
    list_display = (
        "id",
        "customer_name",
        "status",
        "stock_status",
        "allow_backorder",
        "total_amount",
        "created_at",
        "confirmed_at",
        "paid_at",
    )
    list_filter = ("status", "stock_status", StuckPendingListFilter, CustomerListFilter, "created_at", "confirmed_at")
    search_fields = ("=id", "customer_name", "=customer_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_per_page = 50
    inlines = (SalesOrderLineInline, SalesOrderStatusChangeInline)
    actions = ("confirm", "pay", "cancel")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in SalesOrder._meta.fields]

    @role_action(permission="sales.confirm", description="Confirm selected orders")
    def confirm(self, request, queryset):
        self._each(request, queryset, sales_order_confirm, "Confirm selected orders")

    @role_action(permission="orders.pay", description="Mark selected orders paid")
    def pay(self, request, queryset):
        self._each(request, queryset, sales_order_pay, "Mark selected orders paid")

    @role_action(permission="sales.cancel", description="Cancel selected orders")
    def cancel(self, request, queryset):
        self._each(request, queryset, sales_order_cancel, "Cancel selected orders")

    def _each(self, request, queryset, service: Callable[..., SalesOrder], label: str) -> None:
        """Run the transition ``service`` on each selected order, as the signed-in staff member."""
        each_through_service(
            self,
            request,
            queryset,
            call=lambda order: service(order_id=order.pk, actor=request.user.get_username()),
            name=lambda order: str(order.pk),
            success=f"{label}: {{done}} order(s).",
        )
