"""drf-spectacular post-processing: describe the envelope the renderer really sends.

Every 2xx JSON body is wrapped as ``{status, message, data[, meta]}``, and every
operation lists the contract's error responses with the error envelope, so the
document matches the wire format without each view repeating it.

The document is also made for client generators (contract §2): request bodies are
documented as ``application/json`` only (the browsable API may still post its forms,
undocumented: a generator given three media types writes code that sends the last one),
drf-spectacular's method word is dropped from operation ids of action routes
(``orders_confirm``, not ``orders_confirm_create``) where the shorter id stays unique,
public operations say ``security: []``, the envelope's parts are named, fully
required components (``ErrorEnvelope``, ``Error``, ``ErrorType``, ``ErrorDetail``,
``ListMeta``), a filter's enum is the component of the same values (one ``StatusEnum``
for the order and the list's ``status``), and every status an operation can answer is
listed (413 where a body is read, ``5XX`` everywhere), so a generated client parses
every answer. :class:`AutoSchema` documents what every view shares: UUID path ids and
the ``Idempotency-Key`` header. tests/test_generated_client.py generates a client and
runs the workflow.
"""

from __future__ import annotations

import copy

from django.conf import settings
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.settings import api_settings

from common import idempotency
from common.exceptions import ERROR_TYPES

IDEMPOTENCY_MIDDLEWARE = "common.idempotency.middleware.IdempotencyMiddleware"


class AutoSchema(openapi.AutoSchema):
    """DRF's ``DEFAULT_SCHEMA_CLASS``: drf-spectacular's, with what every view shares documented once.

    - UUID path ids typed as such: :class:`common.views.UUIDLookupMixin` lets any path segment
      through (so a non-UUID is a 400, not a 404), which drf-spectacular would document as
      ``pattern: ^[^/]+$``; the id is a UUID (contract §2), and a generated client should take one.
    - The ``Idempotency-Key`` header on every POST the middleware serves (not on exempt views,
      login and token refresh), so a generated client can send it.

    A view's own annotation of a parameter still wins.
    """

    def get_override_parameters(self):
        return [*self._uuid_lookup(), *self._idempotency_key(), *super().get_override_parameters()]

    def _uuid_lookup(self) -> list[OpenApiParameter]:
        from common.views import UUIDLookupMixin  # views import DRF's generics: not at settings time

        if not isinstance(self.view, UUIDLookupMixin):
            return []
        lookup = getattr(self.view, "lookup_url_kwarg", None) or self.view.lookup_field
        if lookup == "pk" and api_settings.SCHEMA_COERCE_PATH_PK:
            lookup = "id"  # the document's path says {id}, as drf-spectacular coerced it
        if f"{{{lookup}}}" not in self.path:
            return []
        return [OpenApiParameter(lookup, OpenApiTypes.UUID, OpenApiParameter.PATH)]

    def _idempotency_key(self) -> list[OpenApiParameter]:
        if self.method != "POST" or getattr(self.view, "idempotency_exempt", False):
            return []
        if IDEMPOTENCY_MIDDLEWARE not in settings.MIDDLEWARE:
            return []
        return [
            OpenApiParameter(
                idempotency.HEADER,
                {"type": "string", "maxLength": idempotency.MAX_KEY_LENGTH},
                OpenApiParameter.HEADER,
                description="A retry with the same key and body replays the first answer; "
                "the same key with another body is a 409.",
            )
        ]


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describe common.authentication.JWTAuthentication as the ``jwtAuth`` bearer scheme."""

    target_class = "common.authentication.JWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "RS256 access token from POST /api/auth/login.",
        }


ERROR_COMPONENT = "ErrorEnvelope"
META_COMPONENT = "ListMeta"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# Named components, not inline objects: a generated client gets ``ErrorEnvelope.error: Error``
# with ``details: list[ErrorDetail]`` and ``type_: ErrorType``, not ``ErrorEnvelopeErrorDetailsType0Item``.
# Every field is required (the renderer always sends it), so typed clients get no ``Unset``.
COMMON_SCHEMAS = {
    ERROR_COMPONENT: {
        "type": "object",
        "required": ["status", "error"],
        "properties": {"status": {"type": "integer", "example": 400}, "error": _ref("Error")},
    },
    "Error": {
        "type": "object",
        "required": ["type", "message", "details"],
        "properties": {
            "type": _ref("ErrorType"),
            "message": {"type": "string"},
            "details": {
                "type": "array",
                "nullable": True,
                "items": _ref("ErrorDetail"),
                "description": "What was wrong, field by field; null when there is nothing more to say.",
            },
        },
    },
    "ErrorType": {"type": "string", "enum": list(ERROR_TYPES)},
    "ErrorDetail": {
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": "string", "description": "Dotted for nested fields: `items.0.quantity`."},
            "message": {"type": "string"},
            # common.exceptions.InsufficientStock: what a short line asked for and what there is.
            "item_id": {"type": "string", "format": "uuid", "description": "A short line's item (409)."},
            "requested": {"type": "integer", "description": "A short line's quantity (409)."},
            "available": {"type": "integer", "description": "The stock on hand for a short line (409)."},
        },
    },
    META_COMPONENT: {
        "type": "object",
        "required": ["total", "limit", "offset"],
        "properties": {"total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}},
    },
}

# Every answer an operation can give is documented, so a generated client parses it instead of
# raising on an "unexpected" status: a body over the limit (413) wherever a body is read, and
# any 5xx (the gateway or a service cannot reach a dependency, or a bug) everywhere.
_BODY_ERRORS = ("400", "401", "403", "404", "409", "413", "415", "5XX")
_ERRORS_BY_METHOD = {
    "get": ("400", "401", "403", "404", "5XX"),
    "post": _BODY_ERRORS,
    "put": _BODY_ERRORS,
    "patch": _BODY_ERRORS,
    "delete": ("400", "401", "403", "404", "409", "5XX"),
}

_DESCRIPTIONS = {
    "400": "Validation failed or malformed request.",
    "401": "Missing, malformed, expired or forged token.",
    "403": "The caller's role does not allow this operation.",
    "404": "Not found.",
    "409": "Conflict with the current state.",
    "413": "The body is over the size limit (1 MiB by default).",
    "415": "Unsupported media type.",
    "5XX": "A dependency is unavailable (502, 503) or too slow (504), or the platform failed (500).",
}


def _wrap(schema: dict, *, is_list: bool) -> dict:
    """Return the success envelope around ``schema``; lists carry ``meta``."""
    properties = {
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "data": schema,
    }
    if is_list:
        properties["meta"] = _ref(META_COMPONENT)
    required = ["status", "message", "data", "meta"] if is_list else ["status", "message", "data"]
    return {"type": "object", "required": required, "properties": properties}


def _resolve(schemas: dict, schema: dict) -> dict:
    """Follow a local ``$ref``: drf-spectacular puts paginated lists in a ``Paginated...List`` component."""
    ref = schema.get("$ref", "")
    prefix = "#/components/schemas/"
    return schemas.get(ref.removeprefix(prefix), schema) if ref.startswith(prefix) else schema


def _is_paginated(operation: dict) -> bool:
    return any(param.get("name") == "limit" for param in operation.get("parameters", []))


JSON_MEDIA_TYPE = "application/json"
# drf-spectacular's operation id ends with the method's action word (AutoSchema.get_operation_id).
_ACTION_WORDS = {
    "get": ("list", "retrieve"),
    "post": ("create",),
    "put": ("update",),
    "patch": ("partial_update",),
    "delete": ("destroy",),
}


# The browsable API's forms: parsed, never documented.
_FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def json_request_body_only(operation: dict) -> None:
    """Keep only the ``application/json`` request body (the first one's schema if a view has no JSON).

    A view that takes one other media type and no JSON (the CSV imports' ``text/csv``) keeps it.
    """
    content = operation.get("requestBody", {}).get("content")
    if not content or list(content) == [JSON_MEDIA_TYPE]:
        return
    others = [media_type for media_type in content if media_type not in (JSON_MEDIA_TYPE, *_FORM_MEDIA_TYPES)]
    if JSON_MEDIA_TYPE not in content and len(others) == 1:
        operation["requestBody"]["content"] = {others[0]: content[others[0]]}
        return
    media = content.get(JSON_MEDIA_TYPE) or next(iter(content.values()))
    operation["requestBody"]["content"] = {JSON_MEDIA_TYPE: media}


def public_without_token(operation: dict) -> None:
    """Say "no token" as ``security: []``, not drf-spectacular's ``[{}]``.

    Both mean the same to OpenAPI, but generators read any non-empty list as "needs a token"
    (openapi-python-client would want an ``AuthenticatedClient`` to log in). An operation
    where a token is optional (``[{"jwtAuth": []}, {}]``, registering) keeps its list.
    """
    if operation.get("security") == [{}]:
        operation["security"] = []


def named_parameter_enums(result: dict) -> None:
    """Point a parameter's inline enum at the component enum of the same values (``status``: ``StatusEnum``).

    drf-spectacular names the enums of serializer fields but writes a filter's inline, so a
    generated client would get two types for one set of statuses (``SalesOrdersListStatus``
    beside ``SalesStatusEnum``) and its users would convert between them. Only a match with
    exactly one component is replaced; a query cannot send null, so ``nullable`` goes too.
    """
    components: dict[frozenset, list[str]] = {}
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if schema.get("type") == "string" and "enum" in schema:
            components.setdefault(frozenset(schema["enum"]), []).append(name)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _ERRORS_BY_METHOD:
                continue
            for parameter in operation.get("parameters", []):
                values = parameter.get("schema", {}).get("enum")
                names = components.get(frozenset(value for value in values if value is not None), []) if values else []
                if len(names) == 1:
                    parameter["schema"] = _ref(names[0])


def path_words(path: str) -> list[str]:
    """The path's fixed segments as identifier words: ``/orders/{id}/mark-paid`` -> ``orders, mark_paid``."""
    return [segment.replace("-", "_") for segment in path.strip("/").split("/") if segment and segment[0] != "{"]


def _shorter_operation_id(path: str, method: str, operation_id: str) -> str | None:
    """Return the id without its action word for an action route (``/orders/{id}/confirm``), else None."""
    words = path_words(path)
    if len(words) < 2:  # a collection or one record: ``customers_list`` reads well as it is
        return None
    for action in _ACTION_WORDS.get(method, ()):
        if operation_id == "_".join([*words, action]):
            return "_".join(words)
    return None


def readable_operation_ids(result: dict) -> None:
    """Drop the action word from generated ids of action routes wherever the shorter id is unique."""
    operations = [
        (path, method, operation)
        for path, path_item in result.get("paths", {}).items()
        for method, operation in path_item.items()
        if method in _ERRORS_BY_METHOD and "operationId" in operation
    ]
    taken = {operation["operationId"] for _, _, operation in operations}
    for path, method, operation in operations:
        shorter = _shorter_operation_id(path, method, operation["operationId"])
        if shorter and shorter not in taken:
            taken.add(shorter)
            operation["operationId"] = shorter


def envelope_postprocessing_hook(result, generator, request, public):
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: envelope the bodies, JSON-only requests, readable ids."""
    readable_operation_ids(result)
    named_parameter_enums(result)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in COMMON_SCHEMAS.items():
        # Copies: the document may be mutated later and these templates serve every call.
        schemas.setdefault(name, copy.deepcopy(schema))
    error_ref = _ref(ERROR_COMPONENT)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _ERRORS_BY_METHOD:
                continue
            json_request_body_only(operation)
            public_without_token(operation)
            responses = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                if not code.startswith("2"):
                    continue
                content = response.get("content", {}).get("application/json")
                if content and "schema" in content and not content.get("x-enveloped"):
                    schema = content["schema"]
                    # Only paginated lists get ``meta`` (EnvelopePagination sets it).
                    is_list = _resolve(schemas, schema).get("type") == "array" and _is_paginated(operation)
                    content["schema"] = _wrap(schema, is_list=is_list)
            public_operation = operation.get("security") == [] or {} in operation.get("security", [])
            for code in _ERRORS_BY_METHOD[method]:
                if public_operation and code in ("401", "403"):
                    continue
                responses.setdefault(
                    code, {"description": _DESCRIPTIONS[code], "content": {"application/json": {"schema": error_ref}}}
                )
            # Errors a view documents with a description only (e.g. a 429) have the same body.
            for code, response in responses.items():
                if code[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": error_ref}}
    return result
