"""Domain exceptions and the one place that turns any exception into the error envelope.

Services (and ``order_documents``) raise only these small classes, never DRF's or Django's
exceptions, never a bare ValueError for bad input: a view's serializer validates the body's
shape, a service refuses what it cannot do with one of these, and nothing in between
translates. :class:`ValidationFailed` 400 (``ValidationFailed({"items.1.item_id": ["Unknown
item."]})`` answers exactly as a serializer's error on that field would), :class:`BadRequest` 400,
:class:`Unauthorized` 401, :class:`NotFound` 404, :class:`Conflict` 409 (and its
:class:`InvalidTransition`, :class:`InsufficientStock`), :class:`RateLimited` 429, the
upstream errors 502/503/504. :func:`envelope_exception_handler` (DRF's ``EXCEPTION_HANDLER``)
maps them, DRF's own exceptions and Django's to ``{"status", "error": {"type", "message",
"details"}}`` (contract §2); :func:`error_response` answers the same envelope outside DRF.
Anything unexpected is logged with the request id and answered as ``internal`` with no details.

The one way, by layer: a serializer (and a FilterSet) refuses what it parses with DRF's
``serializers.ValidationError`` / django-filter's form errors, a 400 naming the field; a
service (``services.py``, ``selectors.py``, an event handler, the order mechanics) raises one of
the classes here, and turns a model's ``full_clean()`` error into
:meth:`ValidationFailed.from_django` and a unique violation into :class:`Conflict`
(``common.db.unique_conflict``); a view raises nothing of its own but what its service raised.
Nothing builds an error body by hand: a response outside DRF is :func:`error_response`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from .renderers import json_response
from .request_id import get_request_id

logger = logging.getLogger("common.exceptions")


class ServiceError(drf.APIException):
    """Base of the domain exceptions: an HTTP status, an envelope type and optional details."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request cannot be processed."
    default_code = "bad_request"

    def __init__(self, detail: str | None = None, *, details: list[dict[str, str]] | None = None):
        super().__init__(detail or self.default_detail, self.default_code)
        self.details = details


class BadRequest(ServiceError):
    default_detail = "Malformed request."
    default_code = "bad_request"


class ValidationFailed(ServiceError):
    """A value a service was given is not acceptable: 400 ``validation`` naming the fields.

    ``ValidationFailed({"password": ["Too short.", "Too common."]})`` or
    ``ValidationFailed.field("reset_token", "Invalid or expired reset token.")``.
    """

    default_detail = "Validation failed."
    default_code = "validation"

    def __init__(self, errors: Mapping[str, Iterable[str]], detail: str | None = None):
        details = [
            {"field": name, "message": str(message)} for name, messages in errors.items() for message in messages
        ]
        super().__init__(detail, details=details)

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})

    @classmethod
    def from_django(cls, exc: DjangoValidationError, *, field: str | None = None) -> ValidationFailed:
        """Translate Django's ValidationError (``full_clean``, password validators); ``field`` names a bare one."""
        if hasattr(exc, "error_dict"):
            return cls(exc.message_dict)
        return cls({field or api_settings.NON_FIELD_ERRORS_KEY: exc.messages})


class NotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."
    default_code = "not_found"


class Unauthorized(ServiceError):
    """Bad credentials on a public endpoint (login): 401 even where no authenticator runs."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Invalid credentials."
    default_code = "unauthorized"


class Forbidden(ServiceError):
    """The caller's role may do the request, but not all that it asks (an import that would adjust stock)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Your role does not allow this operation."
    default_code = "forbidden"


class Conflict(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class PayloadTooLarge(ServiceError):
    """A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (common.middleware.RequestBodyMiddleware)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this service accepts."
    default_code = "payload_too_large"


class InvalidTransition(Conflict):
    """A state change the current state does not allow: 409 naming ``status``.

    ``InvalidTransition("Confirmed", "Draft")`` -> message and details
    ``"order is Confirmed, expected Draft"`` (contract §2); ``expected`` may list several
    states (``("Draft", "Confirmed")`` -> ``"expected Draft or Confirmed"``).
    """

    def __init__(self, current: str, expected: str | Iterable[str], *, entity: str = "order", field: str = "status"):
        expected = (expected,) if isinstance(expected, str) else tuple(expected)
        self.current, self.expected = current, expected
        reason = f"{entity} is {current}, expected {' or '.join(expected)}"
        super().__init__(reason[:1].upper() + reason[1:] + ".", details=[{"field": field, "message": reason}])


class InsufficientStock(Conflict):
    """Not enough stock for some lines: 409 naming each short line with what was asked and what is there.

    ``lines`` are ``{"item_id", "requested", "available"}`` (inventory's availability answer),
    optionally with the request ``field`` of the line (default ``items``). Each becomes a detail
    ``{"field", "message": "item <id>: requested 5, available 2", "item_id", "requested", "available"}``.
    """

    default_detail = "Insufficient stock."

    def __init__(self, lines: Iterable[Mapping[str, Any]]):
        self.lines = [dict(line) for line in lines]
        details = [
            {
                "field": line.get("field", "items"),
                "message": f"item {line['item_id']}: requested {line['requested']}, available {line['available']}",
                "item_id": str(line["item_id"]),
                "requested": line["requested"],
                "available": line["available"],
            }
            for line in self.lines
        ]
        super().__init__(details=details)


class RateLimited(ServiceError):
    """Too many attempts: 429 ``rate_limited`` with ``Retry-After`` rounded up from ``wait`` seconds.

    The message ends like DRF's own throttles': "... Expected available in 600 seconds."
    """

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many requests; try again later."
    default_code = "rate_limited"

    def __init__(self, detail: str | None = None, *, wait: float):
        seconds = max(1, math.ceil(wait))
        unit = "second" if seconds == 1 else "seconds"
        super().__init__(f"{detail or self.default_detail} Expected available in {seconds} {unit}.")
        self.wait = wait


class UpstreamUnavailable(ServiceError):
    """A dependency down: 503 ``upstream_unavailable`` with ``Retry-After`` (whole seconds, ``wait``).

    What it says is a moment to let a restart, a failover or a broker's return happen; a client
    that retries sooner only adds to the load on what is recovering (contract §2).
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unavailable."
    default_code = "upstream_unavailable"
    wait: float | None = 5.0


class BadGateway(UpstreamUnavailable):
    """A dependency answered nonsense: 502, and no ``Retry-After`` (the same request would get the same answer)."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "A service this request needs answered with an error."
    wait = None


class DatabaseUnavailable(UpstreamUnavailable):
    default_detail = "The service cannot reach its database; try again shortly."


class UpstreamTimeout(ServiceError):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_detail = "A service this request needs did not answer in time."
    default_code = "upstream_timeout"


# What every answer to a crash says (the details are in the log, never in the answer).
INTERNAL_MESSAGE = "Internal server error."

# Every ``error.type`` an envelope may carry (contract §2), as the OpenAPI document enumerates them.
ERROR_TYPES = (
    "validation",
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "unsupported_media_type",
    "payload_too_large",
    "rate_limited",
    "internal",
    "upstream_unavailable",
    "upstream_timeout",
)

# DRF exception class -> envelope type; the first entry the exception is an instance of wins.
_DRF_TYPES: list[tuple[type[Exception], str]] = [
    (drf.ValidationError, "validation"),
    (drf.ParseError, "bad_request"),
    (drf.NotAuthenticated, "unauthorized"),
    (drf.AuthenticationFailed, "unauthorized"),
    (drf.PermissionDenied, "forbidden"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "bad_request"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "rate_limited"),
]

_DEFAULT_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    502: "upstream_unavailable",
    503: "upstream_unavailable",
    504: "upstream_timeout",
}


def error_body(status_code: int, error_type: str, message: str, details: Any = None) -> dict[str, Any]:
    """Return the error envelope ``{"status", "error": {"type", "message", "details"}}``."""
    return {"status": status_code, "error": {"type": error_type, "message": message, "details": details}}


def error_response(
    status_code: int, message: str, *, error_type: str | None = None, details: Any = None, headers=None
) -> HttpResponse:
    """Return the error envelope as a plain Django response, for code outside DRF views.

    (Django's error handlers, middleware, the gateway.) Rendered like a DRF view's error, byte
    for byte (common.renderers.json_response). ``error_type`` defaults to the contract's type
    for ``status_code``.
    """
    error_type = error_type or error_type_for_status(status_code)
    body = error_body(status_code, error_type, message, details)
    return json_response(body, status=status_code, headers=headers)


def service_error_response(exc: ServiceError) -> HttpResponse:
    """Return the envelope of a domain exception outside DRF: the answer a DRF view gives when it raises ``exc``."""
    return error_response(
        exc.status_code,
        str(exc.detail),
        error_type=exc.default_code,
        details=exc.details,
        headers=exception_headers(exc),
    )


def exception_headers(exc: drf.APIException) -> dict[str, str]:
    """The headers an error answer carries besides its body: ``WWW-Authenticate``, ``Retry-After`` (``exc.wait``)."""
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        # Round up: "Retry-After: 0" for a 0.4 s wait would invite an immediate retry.
        headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
    return headers


def method_not_allowed_response(method: str, *, allowed: str = "GET, HEAD") -> HttpResponse:
    """Return the 405 a DRF view answers to ``method``, outside DRF (static files, plain views), with ``Allow``."""
    message = str(drf.MethodNotAllowed(method).detail)
    return error_response(405, message, error_type="method_not_allowed", headers={"Allow": allowed})


def error_type_for_status(status_code: int) -> str:
    """Return the envelope type of an HTTP status the mapping does not name otherwise."""
    return _DEFAULT_TYPES.get(status_code, "internal" if status_code >= 500 else "bad_request")


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested ``ValidationError.detail`` into ``[{"field": "items.0.quantity", "message"}]``."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            name = "" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            out += flatten_validation_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"field": prefix or "non_field_errors", "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item in ({}, []):
                continue
            out += flatten_validation_errors(item, f"{prefix}.{index}" if prefix else str(index))
        return out
    return [{"field": prefix or "non_field_errors", "message": str(detail)}]


def _message(exc: drf.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    if isinstance(detail, (str, drf.ErrorDetail)):
        return str(detail)
    return exc.default_detail if isinstance(exc.default_detail, str) else str(exc.default_detail)


def _as_api_exception(exc: Exception) -> Exception:
    """Translate Django's own exceptions into DRF's, leave anything else alone."""
    if isinstance(exc, Http404):
        return drf.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return drf.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return drf.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    # Raised while a view reads a hostile body (too large, too many form fields): the client's fault.
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return BadRequest()
    return exc


# The database is away (restarting, unreachable, a lock timeout): not a bug of the request.
# A query error of the code itself is a ProgrammingError/IntegrityError and stays a 500.
DATABASE_AWAY = (OperationalError, InterfaceError)

# What PostgreSQL reports when it is away or busy for a while, which a retry outlives: the SQLSTATE
# classes 08 (connection), 40 (deadlock, serialization), 53 (resources), 57 (shutdown, cancel), 58
# (system); 55P03/55006 (a lock or object in use); 25006, a read-only transaction (a failover's old
# primary or a standby), which psycopg files under InternalError. Another OperationalError (class 54,
# a program limit such as too many columns) fails the same way however often it is retried.
_AWAY_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_AWAY_SQLSTATES = frozenset({"55P03", "55006", "25006"})


def database_away(exc: BaseException) -> bool:
    """Return True if ``exc`` says the database is unreachable or busy, False if retrying cannot help.

    Django chains the driver's exception as ``__cause__``; without a SQLSTATE (libpq's own
    "connection refused", a closed connection, SQLite's "database is locked") the class decides.
    """
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate is None:
        return isinstance(exc, DATABASE_AWAY)
    return sqlstate[:2] in _AWAY_SQLSTATE_CLASSES or sqlstate in _AWAY_SQLSTATES


def database_unavailable(request, exc: Exception) -> DatabaseUnavailable:
    """Log ``exc`` (one of :data:`DATABASE_AWAY`) in one line and return the 503 to answer.

    A 503 as for any dependency down (contract §2); one line and no traceback per request
    while it lasts. Used by DRF's handler and by middleware that touches the database.
    """
    logger.warning(
        "Database unavailable in %s %s (request %s): %s",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        get_request_id(),
        type(exc).__name__,
        extra={"request_id": get_request_id()},
    )
    return DatabaseUnavailable()


def envelope_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF ``EXCEPTION_HANDLER``: answer every exception with the error envelope."""
    exc = _as_api_exception(exc)
    # Like DRF's own handler: with ATOMIC_REQUESTS, an error must not commit half a change.
    set_rollback()

    request = context.get("request")
    if database_away(exc):
        exc = database_unavailable(request, exc)

    if not isinstance(exc, drf.APIException):
        request_id = get_request_id()
        # ``extra`` puts the id on the record itself, so every handler sees it, not only
        # those configured with common.logging.RequestIDFilter.
        logger.exception(
            "Unhandled exception in %s %s (request %s)",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            request_id,
            extra={"request_id": request_id},
        )
        return Response(error_body(500, "internal", INTERNAL_MESSAGE), status=500)

    headers = exception_headers(exc)
    if isinstance(exc, ServiceError):
        error_type, details, message = exc.default_code, exc.details, str(exc.detail)
    elif isinstance(exc, drf.ValidationError):
        error_type, message = "validation", "Validation failed."
        details = flatten_validation_errors(exc.detail)
    else:
        # simplejwt nests the reason in ``detail``; the envelope keeps one line.
        error_type = next((name for cls, name in _DRF_TYPES if isinstance(exc, cls)), None)
        error_type = error_type or error_type_for_status(exc.status_code)
        details, message = None, _message(exc)
    return Response(error_body(exc.status_code, error_type, message, details), status=exc.status_code, headers=headers)
