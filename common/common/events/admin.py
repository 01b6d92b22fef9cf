"""Read-only admin pages for the outbox and the inbox: for looking (admin only), never for editing."""

from django.contrib import admin

from common.admin import RoleAdminMixin

from .models import InboxEvent, OutboxEvent


class ReadOnlyAdmin(RoleAdminMixin, admin.ModelAdmin):
    role_permissions = {"view": "events.read", "add": None, "change": None, "delete": None}


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "event_type", "version", "aggregate_id", "occurred_at", "sent_at", "publish_attempts"]
    list_filter = ["event_type", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "aggregate_id", "correlation_id"]
    ordering = ["-id"]


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "consumer", "event_type", "version", "event_id", "received_at"]
    list_filter = ["consumer", "event_type"]
    search_fields = ["event_id", "correlation_id"]
    ordering = ["-id"]
