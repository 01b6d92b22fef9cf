"""The one way to write a view: viewset mixins whose hooks call a service, strict UUID lookups,
and JSON error pages for what Django answers itself.

A viewset never overrides ``create``, ``update``, ``partial_update`` or ``destroy``: DRF's
actions parse with the serializer and call one hook, and the hook calls one service. When the
request and the answer differ (``POST /users`` takes a password and answers ``is_active``),
``get_serializer_class`` names the request serializer per action and that serializer's
``to_representation`` renders the answer with the output serializer (auth_svc's
``AnswersAsAdminUser``). An action of its own (``@action``: ``deactivate``, ``stock``) parses,
calls one service and renders, in a few lines.

A viewset validates with its serializer and lets a service write::

    class ThingViewSet(ServiceModelViewSet):
        serializer_class = ThingSerializer
        filterset_class = ThingFilter           # field filters (django-filter)
        search_fields = ("name",)               # ?search= (common.filters.SearchFilter)
        ordering_fields = ("name", "created_at")  # ?ordering= (common.filters.OrderingFilter)
        required_permissions = {"list": "things.read", ...}

        def get_queryset(self):
            return thing_list()

        def perform_create(self, serializer):
            serializer.instance = thing_create(**serializer.validated_data)

        def perform_update(self, serializer):
            serializer.instance = thing_update(thing=serializer.instance, data=serializer.validated_data)

        def perform_destroy(self, instance):
            thing_delete(thing=instance)

A transition or any other write beyond these is an ``@action`` of its own calling one
service (sales_svc's and purchase_svc's ``api/views.py`` show it), so roles and docs are
declared per action; views never override ``create``/``update`` themselves. Services raise
:mod:`common.exceptions`' domain exceptions, which the envelope handler answers.

The filter backends are the global ones (settings ``DEFAULT_FILTER_BACKENDS``): never switch
them off in a view (they narrow lists; a lookup by id skips them, :class:`UUIDLookupMixin`).
The FilterSet (the app's ``filters.py``) documents the list's query parameters itself
(``help_text``; see :mod:`common.filters`): no hand-written parameter lists.

A service's ``config/urls.py`` points Django's ``handler400/403/404/500`` here, so an
unknown path, a bad ``Host`` or a crash outside DRF still answers in the envelope.
"""

from __future__ import annotations

import functools
import uuid

from django.views.decorators.csrf import csrf_exempt
from rest_framework import mixins, viewsets
from rest_framework.generics import get_object_or_404

from .exceptions import INTERNAL_MESSAGE, BadRequest, error_response, method_not_allowed_response


def bad_request(request, exception=None):
    """``handler400``: a request Django refused itself (a disallowed ``Host``, a body too large)."""
    return error_response(400, "Bad request.")


def permission_denied(request, exception=None):
    """``handler403``: Django's own 403 (PermissionDenied outside DRF; a CSRF failure is the admin's HTML page)."""
    return error_response(403, "Forbidden.")


def not_found(request, exception=None):
    """``handler404``: an unknown path."""
    return error_response(404, "Not found.")


def server_error(request):
    """``handler500``: a crash outside DRF; the details are in the log, never in the answer."""
    return error_response(500, INTERNAL_MESSAGE, error_type="internal")


def read_only_view(view):
    """Make a plain Django view (not DRF) answer GET and HEAD only, any other method with the envelope's 405.

    CSRF-exempt, since it never takes a write: otherwise Django's CSRF check would refuse a
    POST with its HTML page before the view could answer the 405 (DRF views are exempt already).
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed_response(request.method)
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)


class UUIDLookupMixin:
    """Answer 400 ``bad_request`` for a path id that is not a UUID (contract §2), never 404.

    The router must let any id through to :meth:`get_object` (``lookup_value_regex``),
    including ids with dots (``/users/a.b``), which DRF's default pattern refuses with a 404.
    Put it before the generic view in the bases so its ``get_object`` runs first.

    A detail lookup reads by id alone: the list's filter backends (field filters, search,
    ordering) are not applied to it, as DRF's ``get_object`` would. They narrow a list; none
    of them scopes what a caller may see, a detail URL documents none of their parameters, and
    running them built a FilterSet and its form (deep copies of every filter) on every
    request by id, the largest cost of ``GET /customers/{id}`` after the query itself.
    """

    lookup_value_regex = "[^/]+"

    def lookup_id(self) -> uuid.UUID:
        """Return the path's id as a UUID, or raise the 400; a transition passes it to its service as it is."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup)
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise BadRequest(
                f"'{value}' is not a valid UUID.", details=[{"field": "id", "message": "Must be a UUID."}]
            ) from None

    def get_object(self):
        obj = get_object_or_404(self.get_queryset(), **{self.lookup_field: self.lookup_id()})
        self.check_object_permissions(self.request, obj)
        return obj


class ServiceCreateMixin(mixins.CreateModelMixin):
    """``create``: the serializer validates; :meth:`perform_create` calls the service (never ``save()``)."""

    def perform_create(self, serializer):
        raise NotImplementedError(
            f"{type(self).__name__}.perform_create must call a service: serializer.instance = <entity>_create(...)"
        )


class ServiceUpdateMixin(mixins.UpdateModelMixin):
    """``update`` (PUT) and ``partial_update`` (PATCH): :meth:`perform_update` calls the service.

    ``serializer.instance`` is the object :meth:`get_object` found; the hook replaces it with
    what the service returns, which is what the response renders.
    """

    def perform_update(self, serializer):
        raise NotImplementedError(
            f"{type(self).__name__}.perform_update must call a service: serializer.instance = <entity>_update(...)"
        )


class ServiceDestroyMixin(mixins.DestroyModelMixin):
    """``destroy``: :meth:`perform_destroy` calls the service; the answer is a 204."""

    def perform_destroy(self, instance):
        raise NotImplementedError(f"{type(self).__name__}.perform_destroy must call a service: <entity>_delete(...)")


class ServiceModelViewSet(
    UUIDLookupMixin,
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ServiceUpdateMixin,
    ServiceDestroyMixin,
    viewsets.GenericViewSet,
):
    """list, retrieve, create, update, partial_update and destroy, each write through a service."""
