"""Read-only admin pages for the outbox and the inbox: for looking, never for editing."""

from django.contrib import admin

from .models import InboxEvent, OutboxEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
