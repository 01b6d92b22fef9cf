"""The REST shape of an order document: list, read, create, replace lines, transitions.

A service subclasses :class:`OrderViewSet` (the common.views mixins, whose hooks call
services) and names its model, serializers, FilterSet, search fields and services; each
transition is an ``@action`` of its own that calls one service (so roles and docs are
declared per action). Filtering, search and ordering are the global backends'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import prefetch_related_objects
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from common.authentication import actor_of
from common.roles import roles_text
from common.views import ServiceCreateMixin, ServiceUpdateMixin, UUIDLookupMixin

from .filters import ORDERING_FIELDS
from .lines import line_requests
from .models import OrderDocument
from .serializers import OrderLinesSerializer, OrderSerializer

READ, WRITE = "orders.read", "orders.write"


def list_parameters(*, party: str, stamp: str) -> list[OpenApiParameter]:
    """Return the documented query parameters of an order list (``stamp``: confirmed, received)."""
    dates = [f"created_{edge}" for edge in ("after", "before")] + [f"{stamp}_{edge}" for edge in ("after", "before")]
    return [
        OpenApiParameter("search", str, description=f"Words that must each appear in the {party}'s name or a SKU."),
        OpenApiParameter(
            "ordering", str, description="Among created_at, updated_at, total_amount, status; `-` descends."
        ),
        *(OpenApiParameter(name, OpenApiTypes.DATETIME, description="ISO 8601, inclusive.") for name in dates),
    ]


def order_viewset_schema(*, title: str, party: str, stamp: str, serializer, create_serializer, lines_serializer):
    """Return the OpenAPI description of the shared actions (``title``: "sales order")."""
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {title}s",
            description=f"Newest first unless `ordering` says otherwise; `search` matches the {party}'s name and "
            f"the lines' SKUs. {roles_text(READ)}",
            parameters=list_parameters(party=party, stamp=stamp),
        ),
        retrieve=extend_schema(summary=f"Get a {title}", description=roles_text(READ)),
        create=extend_schema(
            summary=f"Create a {title} (Draft)",
            description=f"The {party} and every item are checked with contact_svc and inventory_svc in one call "
            f"each; a line's price defaults to the item's unit_price. {roles_text(WRITE)}",
            request=create_serializer,
            responses={201: serializer},
        ),
        update=extend_schema(
            summary="Replace a draft's lines",
            description=f"Only in Draft; invalid lines change nothing. {roles_text(WRITE)}",
            request=lines_serializer,
            responses={200: serializer},
        ),
    )


def transition_schema(*, summary: str, description: str, permission: str, serializer):
    """Return the OpenAPI description of a transition action (no body, answers the order)."""
    return extend_schema(
        summary=summary,
        description=f"{description} {roles_text(permission)}",
        request=None,
        responses={200: serializer},
    )


class OrderViewSet(
    UUIDLookupMixin,
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ServiceUpdateMixin,
    viewsets.GenericViewSet,
):
    """list, retrieve, create, replace lines (PUT); a subclass adds its transitions as actions."""

    model: ClassVar[type[OrderDocument]]
    serializer_class: ClassVar[type[OrderSerializer]]
    # The create body (party id and lines); PUT takes the lines only.
    create_serializer_class: ClassVar[type[OrderLinesSerializer]]
    lines_serializer_class: ClassVar[type[OrderLinesSerializer]]
    ordering_fields = ORDERING_FIELDS
    http_method_names: ClassVar[list[str]] = ["get", "post", "put", "head", "options"]
    required_permissions: ClassVar[dict[str, str]] = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE,
        "update": WRITE,
    }

    # The selector and services, set with staticmethod() so they are not bound as methods.
    list_selector: ClassVar[Callable[[], Any]]
    create_service: ClassVar[Callable[..., OrderDocument]]
    lines_replace_service: ClassVar[Callable[..., OrderDocument]]

    def get_queryset(self):
        # Lines are read with the order only where the answer shows them as they are now.
        return self.list_selector() if self.action in ("list", "retrieve") else self.model.objects.all()

    def get_serializer_class(self):
        if self.action == "create":
            return self.create_serializer_class
        if self.action == "update":
            return self.lines_serializer_class
        return self.serializer_class

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = self.create_service(lines=line_requests(data.pop("items")), **data)

    def perform_update(self, serializer):
        lines = line_requests(serializer.validated_data["items"])
        serializer.instance = self.lines_replace_service(order_id=serializer.instance.pk, lines=lines)

    def transition(self, service: Callable[..., OrderDocument], **kwargs: Any) -> Response:
        """Run a transition service on the path's order and answer the order as it committed it."""
        order = service(order_id=self.get_object().pk, actor=actor_of(self.request.user), **kwargs)
        # The lines are read once, unless the service already holds them.
        prefetch_related_objects([order], "lines")
        return Response(self.serializer_class(order).data)
