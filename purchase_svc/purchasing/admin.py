"""Django admin of purchase orders: read-only orders, lines and status history; receive, pay and cancel as actions.

The actions call the same services as the API, so a reception writes its event (and
inventory adds the stock) like any other; each is offered to the roles the matrix gives
it (common.roles: ``purchase.receive``, ``orders.pay``, ``purchase.cancel``).
"""

from __future__ import annotations

from django.contrib import admin

from common.orders.admin import OrderAdmin, OrderLineInline, OrderStatusChangeInline, transition_action

from .models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatusChange
from .services import purchase_order_cancel, purchase_order_pay, purchase_order_receive


class PurchaseOrderLineInline(OrderLineInline):
    model = PurchaseOrderLine


class PurchaseOrderStatusChangeInline(OrderStatusChangeInline):
    model = PurchaseOrderStatusChange


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(OrderAdmin):
    list_display = ("id", "vendor_name", "status", "total_amount", "created_at", "received_at", "paid_at")
    search_fields = ("=id", "vendor_name", "=vendor_id")
    inlines = (PurchaseOrderLineInline, PurchaseOrderStatusChangeInline)
    actions = (
        transition_action(
            purchase_order_receive, name="receive", label="Receive selected orders", permission="purchase.receive"
        ),
        transition_action(purchase_order_pay, name="pay", label="Mark selected orders paid", permission="orders.pay"),
        transition_action(
            purchase_order_cancel, name="cancel", label="Cancel selected orders", permission="purchase.cancel"
        ),
    )
