"""Django admin helpers: the admin writes through the services, and shows their refusals.

A ModelAdmin whose ``save_model`` / ``delete_model`` call services adds
:class:`ServiceErrorsAdminMixin` first in its bases, so a service's refusal (any
``common.exceptions.ServiceError``: a 409 of the last-admin guard, a duplicate that
raced past the form) rolls the change back and is shown on the same page, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponseRedirect

from .exceptions import ServiceError


class ServiceErrorsAdminMixin:
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django runs the form and save_model in one transaction: the refusal rolls all
        # of it back, then the operator sees why on the page they came from.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            self.message_user(request, str(exc.detail), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as exc:
            self.message_user(request, str(exc.detail), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def response_action(self, request, queryset):
        # A tampered selection ("nope" where the primary key is a UUID) raises when the
        # action first reads its queryset, before it writes anything: show it, never a 500.
        try:
            return super().response_action(request, queryset)
        except DjangoValidationError as exc:
            self.message_user(request, f"Nothing was changed: {' '.join(exc.messages)}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
