"""Django admin of an order document: read-only header, lines and status history, transitions as actions.

Nothing here is editable: status and totals change only through the services, which
the actions call one order at a time, each reporting its own success or refusal. Who
may look and which actions they are offered follow the role matrix (common.admin).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Max

from common.admin import RoleAdminMixin, each_through_service, role_action

from .models import OrderDocument

READ_ONLY = {"view": "orders.read", "add": None, "change": None, "delete": None}


class OrderLineInline(RoleAdminMixin, admin.TabularInline):
    role_permissions = READ_ONLY
    fields = ("position", "sku", "name", "item_id", "quantity", "unit_price", "subtotal")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)


class OrderStatusChangeInline(RoleAdminMixin, admin.TabularInline):
    """The order's status history, oldest first: written by the transitions, never by hand."""

    role_permissions = READ_ONLY
    fields = ("created_at", "from_status", "to_status", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "status history"


class PartyListFilter(admin.SimpleListFilter):
    """Orders of one party (customer or vendor), chosen among the parties that have orders."""

    def __init__(self, request, params, model: type[OrderDocument], model_admin):
        self.party = model.PARTY
        self.title = self.party.kind
        self.parameter_name = self.party.id_field
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        # The newest copied name per party: one row each, even while a rename is on its way.
        rows = (
            model_admin.model.objects.values(self.party.id_field)
            .annotate(name=Max(self.party.name_field))
            .order_by("name", self.party.id_field)
        )
        return [(str(row[self.party.id_field]), row["name"]) for row in rows]

    def queryset(self, request, queryset):
        # A value that is not a UUID raises here; the changelist shows it as a bad lookup (?e=1).
        return queryset.filter(**{self.party.id_field: self.value()}) if self.value() else queryset


class OrderAdmin(RoleAdminMixin, admin.ModelAdmin):
    # View only: creating checks the party and items with their services (the API's job),
    # and there is nothing an operator may edit or delete by hand (no save button either).
    role_permissions = READ_ONLY
    list_filter = ("status", PartyListFilter, "created_at")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


def transition_action(service: Callable[..., OrderDocument], *, name: str, label: str, permission: str):
    """Return an admin action, for the roles holding ``permission``, running ``service`` on each order."""

    def action(modeladmin: admin.ModelAdmin, request, queryset) -> None:
        each_through_service(
            modeladmin,
            request,
            queryset,
            call=lambda order: service(order_id=order.pk, actor=request.user.get_username()),
            name=lambda order: str(order.pk),
            success=f"{label}: {{done}} order(s).",
        )

    action.__name__ = name
    return role_action(permission=permission, description=label)(action)
