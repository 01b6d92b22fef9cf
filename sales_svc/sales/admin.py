"""Django admin of sales orders: entry of drafts, read-only orders, lines and status history; the writes as actions.

A draft is entered, and its lines changed while it is one, on the order entry page
(common.admin_entry, order_documents.forms): the customer and the items picked by searching contact_svc and
inventory_svc, the body checked by the API's serializer and saved by the API's services
(:func:`sales_order_create`, :func:`sales_order_lines_replace`). Nothing else is editable:
status and totals change only through the services, which the actions call one order at a
time (the same services as the API, so an operator's confirmation checks stock and writes its
event like any other), each order reporting its own success or refusal. Who may look, enter
and which actions they are offered follow the role matrix (common.admin, common.roles: enter
``orders.write``, confirm and cancel ``sales.*``, pay ``orders.pay``).
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.db.models import Max

from common.admin import RoleAdminMixin, each_through_service, role_action
from common.admin_entry import ServiceEntryAdminMixin
from order_documents.forms import OrderEntry, Party
from order_documents.lines import line_requests

from .api.serializers import SalesOrderCreateSerializer, SalesOrderLinesSerializer
from .models import SalesOrder, SalesOrderLine, SalesOrderStatusChange
from .selectors import sales_order_list_stuck_pending
from .services import (
    sales_order_cancel,
    sales_order_confirm,
    sales_order_create,
    sales_order_lines_replace,
    sales_order_pay,
)
from .transitions import EDITABLE

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


def _backorder_option() -> dict[str, forms.Field]:
    return {
        "allow_backorder": forms.BooleanField(
            required=False,
            label="allow backorder",
            help_text="Ship what is on hand at confirmation and let the rest wait for stock.",
        )
    }


@admin.register(SalesOrder)
class SalesOrderAdmin(ServiceEntryAdminMixin, RoleAdminMixin, admin.ModelAdmin):
    # Entered on the order entry page, through the API's serializers and services; nothing of
    # an order is edited field by field, and nothing deleted.
    role_permissions = {"view": "orders.read", "add": "orders.write", "change": "orders.write", "delete": None}
    entry = OrderEntry(
        party=Party(field="customer_id", path="/customers", kind="customer"),
        statuses=EDITABLE,
        options=_backorder_option,
    )
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

    def entry_serializer(self, *, obj):
        return SalesOrderCreateSerializer if obj is None else SalesOrderLinesSerializer

    def entry_save(self, request, *, obj, data) -> SalesOrder:
        # What the API's perform_create and perform_update call, with the same validated data.
        lines = line_requests(data["items"])
        if obj is None:
            return sales_order_create(
                customer_id=data["customer_id"], lines=lines, allow_backorder=data.get("allow_backorder", False)
            )
        return sales_order_lines_replace(order_id=obj.pk, lines=lines, allow_backorder=data.get("allow_backorder"))

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
