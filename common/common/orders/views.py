"""The REST shape of an order document: list, read, create, replace lines, transitions.

A service subclasses :class:`OrderViewSet` and names its model, serializers,
FilterSet and services; each transition is an ``@action`` of its own that calls one
service (so roles and docs are declared per action). Views parse, call one selector
or service, render.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rest_framework import status, viewsets
from rest_framework.response import Response

from common.views import UUIDLookupMixin

from .lines import line_requests
from .models import OrderDocument
from .selectors import order_queryset
from .serializers import OrderLinesSerializer, OrderSerializer

READ, WRITE = "orders.read", "orders.write"


class OrderViewSet(UUIDLookupMixin, viewsets.GenericViewSet):
    model: ClassVar[type[OrderDocument]]
    serializer_class: ClassVar[type[OrderSerializer]]
    create_serializer_class: ClassVar[type[OrderLinesSerializer]]
    # Filtering is ``filtered()``'s job, with errors naming the parameter.
    filter_backends: ClassVar[list] = []
    # Any non-slash id reaches UUIDLookupMixin, which answers 400 rather than the router's 404.
    lookup_value_regex = "[^/]+"
    http_method_names: ClassVar[list[str]] = ["get", "post", "put", "head", "options"]
    required_permissions: ClassVar[dict[str, str]] = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE,
        "update": WRITE,
    }

    # The selector and services, set with staticmethod() so they are not bound as methods.
    list_selector: ClassVar[Callable[..., Any]]
    create_service: ClassVar[Callable[..., OrderDocument]]
    lines_replace_service: ClassVar[Callable[..., OrderDocument]]

    def get_queryset(self):
        return order_queryset(self.model)

    def get_serializer_class(self):
        return self.create_serializer_class if self.action == "create" else self.serializer_class

    def list(self, request):
        orders = self.list_selector(filters=request.query_params)
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(self.serializer_class(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self.render(self.get_object())

    def create(self, request):
        body = self.create_serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        order = self.create_service(lines=line_requests(data.pop("items")), **data)
        return self.render(order, status_code=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        order = self.get_object()
        body = OrderLinesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = self.lines_replace_service(order_id=order.pk, lines=line_requests(body.validated_data["items"]))
        return self.render(order)

    def transition(self, service: Callable[..., OrderDocument], **kwargs: Any) -> Response:
        """Run a transition service on the path's order and answer the order as it is now."""
        return self.render(service(order_id=self.get_object().pk, **kwargs))

    def render(self, order: OrderDocument, *, status_code: int = status.HTTP_200_OK) -> Response:
        # Re-read with the lines prefetched: the answer shows what was committed.
        return Response(self.serializer_class(self.get_queryset().get(pk=order.pk)).data, status=status_code)
