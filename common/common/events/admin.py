"""Read-only admin pages for the outbox, the inbox and the dead letters: for looking (admin only), never for editing."""

import logging

from amqp.exceptions import AMQPError
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from kombu.exceptions import KombuError

from common.admin import RoleAdminMixin

from . import conf
from .dead_letters import LISTED, consumes_events, dead_letters_list
from .models import InboxEvent, OutboxEvent
from .topology import Topology

logger = logging.getLogger(__name__)

BROKER_ERRORS = (OSError, KombuError, AMQPError)


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
    """The events applied; beside them, at ``dead-letters/``, the events this service's consumer parked."""

    list_display = ["id", "consumer", "event_type", "version", "event_id", "received_at"]
    list_filter = ["consumer", "event_type"]
    search_fields = ["event_id", "correlation_id"]
    ordering = ["-id"]

    def get_urls(self):
        dead_letters = path(
            "dead-letters/", self.admin_site.admin_view(self.dead_letters_view), name="events_dead_letters"
        )
        return [dead_letters, *super().get_urls()]

    def dead_letters_view(self, request):
        """List the dead letters (common.events.dead_letters): what the back office's home counts, one by one."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {"queue": Topology().dlq_name(conf.consumer_name()), "limit": LISTED, "letters": []}
        if not consumes_events():
            context["problem"] = "This service consumes no events: it has no dead-letter queue."
        else:
            try:
                context["letters"] = dead_letters_list()
            except BROKER_ERRORS as exc:  # the broker away or refusing: said on the page, never a 500
                logger.warning("dead letters could not be read: %s", type(exc).__name__)
                context["problem"] = "The broker could not be read just now; try again in a moment."
        return TemplateResponse(
            request,
            "admin/dead_letters.html",
            {**self.admin_site.each_context(request), "title": "Dead-lettered events", "opts": self.opts, **context},
        )
