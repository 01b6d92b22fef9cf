"""Django admin of an order document: read-only header and lines, transitions as actions.

Nothing here is editable: status and totals change only through the services, which
the actions call one order at a time, each reporting its own success or refusal.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from rest_framework.exceptions import APIException

from .models import OrderDocument


class OrderLineInline(admin.TabularInline):
    fields = ("position", "sku", "name", "item_id", "quantity", "unit_price", "subtotal")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderAdmin(admin.ModelAdmin):
    list_filter = ("status", "created_at")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        # View only: there is nothing an operator may edit by hand (no save button either).
        return False

    def has_add_permission(self, request) -> bool:
        # Creating checks the party and items with their services: that is the API's job.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def transition_action(service: Callable[..., OrderDocument], *, name: str, label: str):
    """Return an admin action that runs ``service(order_id=...)`` on each selected order."""

    def action(modeladmin: admin.ModelAdmin, request, queryset) -> None:
        done = 0
        for order in queryset:
            try:
                service(order_id=order.pk)
            except APIException as exc:
                details = "; ".join(item["message"] for item in getattr(exc, "details", None) or [])
                modeladmin.message_user(request, f"{order.pk}: {exc.detail} {details}".strip(), messages.ERROR)
            else:
                done += 1
        if done:
            modeladmin.message_user(request, f"{label}: {done} order(s).", messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=label)(action)
