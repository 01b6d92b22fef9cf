"""Django admin of sales orders: read-only orders, lines and status history; confirm, pay and cancel as actions.

The actions call the same services as the API, so an operator's confirmation checks
stock and writes its event like any other; each is offered to the roles the matrix
gives it (common.roles: confirm and cancel ``sales.*``, pay ``orders.pay``).
"""

from __future__ import annotations

from django.contrib import admin

from common.orders.admin import OrderAdmin, OrderLineInline, OrderStatusChangeInline, PartyListFilter, transition_action

from .models import SalesOrder, SalesOrderLine, SalesOrderStatusChange
from .services import sales_order_cancel, sales_order_confirm, sales_order_pay


class SalesOrderLineInline(OrderLineInline):
    model = SalesOrderLine


class SalesOrderStatusChangeInline(OrderStatusChangeInline):
    model = SalesOrderStatusChange


@admin.register(SalesOrder)
class SalesOrderAdmin(OrderAdmin):
    list_display = (
        "id",
        "customer_name",
        "status",
        "stock_status",
        "total_amount",
        "created_at",
        "confirmed_at",
        "paid_at",
    )
    list_filter = ("status", "stock_status", PartyListFilter, "created_at")
    search_fields = ("=id", "customer_name", "=customer_id")
    inlines = (SalesOrderLineInline, SalesOrderStatusChangeInline)
    actions = (
        transition_action(
            sales_order_confirm, name="confirm", label="Confirm selected orders", permission="sales.confirm"
        ),
        transition_action(sales_order_pay, name="pay", label="Mark selected orders paid", permission="orders.pay"),
        transition_action(sales_order_cancel, name="cancel", label="Cancel selected orders", permission="sales.cancel"),
    )
