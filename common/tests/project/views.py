"""Small views used by common's tests, one per piece of behaviour they exercise."""

import threading
import time

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError, connection, transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from common.exceptions import (
    BadGateway,
    Conflict,
    InsufficientStock,
    InvalidTransition,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationFailed,
)
from common.views import UUIDLookupMixin

from .models import Gadget


class WidgetSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    quantity = serializers.IntegerField(min_value=1)


class WidgetView(APIView):
    required_permissions = {"get": "items.read", "post": "items.write"}

    @extend_schema(responses=WidgetSerializer)
    def get(self, request):
        return Response({"name": "sprocket", "quantity": 1})

    @extend_schema(request=WidgetSerializer, responses={201: WidgetSerializer})
    def post(self, request):
        serializer = WidgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class GadgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gadget
        fields = ["id", "name", "created_at"]


class GadgetListView(generics.ListCreateAPIView):
    queryset = Gadget.objects.all()
    serializer_class = GadgetSerializer
    filter_backends: list = []
    required_permissions = {"get": "items.read", "post": "items.write"}


class GadgetDetailView(UUIDLookupMixin, generics.RetrieveDestroyAPIView):
    queryset = Gadget.objects.all()
    serializer_class = GadgetSerializer
    required_permissions = {"get": "items.read", "delete": "items.delete"}
    # The internal read sales and purchase make with their service tokens.
    service_actions = {"get": frozenset({"sales", "purchase"})}

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.envelope_message = "Gadget found."
        return response


class OrderLineSerializer(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1)


class OrderSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    items = OrderLineSerializer(many=True)

    def validate(self, attrs):
        if len({line["item_id"] for line in attrs["items"]}) != len(attrs["items"]):
            raise serializers.ValidationError("An item may appear on one line only.")
        return attrs


class OrderView(APIView):
    """Nested validation: errors come back dotted (``items.0.quantity``)."""

    required_permissions = {"post": "orders.write"}

    @extend_schema(
        request=OrderSerializer,
        responses={201: OrderSerializer, 429: OpenApiResponse(description="Too many orders.")},
    )
    def post(self, request):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data, status=201)


class OncePerMinute(AnonRateThrottle):
    rate = "1/min"


class ThrottledView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [OncePerMinute]

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"ok": True})


ERRORS = {
    "http404": Http404("no such thing"),
    "conflict": Conflict("order is Confirmed", details=[{"field": "status", "message": "expected Draft"}]),
    "unavailable": UpstreamUnavailable(),
    "bad_gateway": BadGateway(),
    "timeout": UpstreamTimeout(),
    "django_validation": DjangoValidationError({"email": ["Enter a valid email address."]}),
    "crash": RuntimeError("secret internals"),
    "transition": InvalidTransition("Confirmed", "Draft"),
    "transition_of_several": InvalidTransition("Paid", ("Draft", "Confirmed"), entity="purchase order"),
    "insufficient_stock": InsufficientStock(
        [
            {"item_id": "7d7f3a52-1111-4a9e-9d1e-2f3b4c5d6e7f", "requested": 5, "available": 2},
            {"item_id": "7d7f3a52-2222-4a9e-9d1e-2f3b4c5d6e7f", "requested": 1, "available": 0, "field": "items.1"},
        ]
    ),
    "validation_failed": ValidationFailed({"password": ["Too short.", "Too common."]}),
    "rate_limited": RateLimited("Too many attempts.", wait=0.4),
    "too_big": RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."),
    "suspicious": TooManyFieldsSent("The number of GET/POST parameters exceeded"),
    "database_down": OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused'),
}


class ErrorView(APIView):
    """Raise the exception named in the path, to test the exception handler."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, kind):
        raise ERRORS[kind]


class EnvelopeView(APIView):
    """A message of the view's choosing, and a 204."""

    required_permissions = {"get": "items.read", "delete": "items.delete"}

    @extend_schema(exclude=True)
    def get(self, request):
        response = Response({"answer": 42})
        response.envelope_message = "The answer."
        return response

    @extend_schema(exclude=True)
    def delete(self, request):
        return Response(status=204)


class SideEffects:
    """Count how often the counter view really ran (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def bump(self) -> int:
        with self.lock:
            self.count += 1
            return self.count


side_effects = SideEffects()


class CounterView(APIView):
    """A POST with a visible side effect, for the idempotency tests.

    ``?sleep=`` keeps the request in flight; ``?fail=1`` answers 503 after the work.
    """

    required_permissions = {"post": "orders.write"}

    @extend_schema(exclude=True)
    def post(self, request):
        count = side_effects.bump()
        time.sleep(float(request.query_params.get("sleep", 0)))
        if request.query_params.get("fail"):
            raise UpstreamUnavailable()
        return Response({"count": count, "echo": request.data}, status=201)


@transaction.atomic
def gadget_make(*, name: str) -> Gadget:
    """A service as the real ones are: its own transaction (a savepoint inside a keyed request's)."""
    return Gadget.objects.create(name=name)


class GadgetWorkView(APIView):
    """A POST whose work is a database row, for the idempotency tests; ``?sleep=`` holds it after the work.

    ``?show_lock_timeout=1`` reports the ``lock_timeout`` the view ran with (``X-Lock-Timeout``).
    """

    required_permissions = {"post": "items.write"}

    @extend_schema(exclude=True)
    def post(self, request):
        gadget = gadget_make(name=str(request.data.get("name", "gadget"))[:50])
        side_effects.bump()
        time.sleep(float(request.query_params.get("sleep", 0)))
        response = Response({"id": str(gadget.id), "name": gadget.name}, status=201)
        if request.query_params.get("show_lock_timeout"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('lock_timeout')")
                response["X-Lock-Timeout"] = cursor.fetchone()[0]
        return response


class ExemptCounterView(CounterView):
    """The counter, opted out of idempotency as a login view would be."""

    idempotency_exempt = True


class PublicCounterView(CounterView):
    """The counter without authentication, as register or reset-password are."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
