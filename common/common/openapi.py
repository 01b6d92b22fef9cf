"""drf-spectacular post-processing: describe the envelope the renderer really sends.

Every 2xx JSON body is wrapped as ``{status, message, data[, meta]}``, and every
operation lists the contract's error responses with the error envelope, so the
document matches the wire format without each view repeating it.

The document is also made for client generators (CONTRACT §2): request bodies are
documented as ``application/json`` only (the browsable API may still post its forms,
undocumented: a generator given three media types writes code that sends the last one),
and drf-spectacular's method word is dropped from operation ids of action routes
(``orders_confirm``, not ``orders_confirm_create``) where the shorter id stays unique.
"""

from __future__ import annotations

import copy

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "error"],
    "properties": {
        "status": {"type": "integer", "example": 400},
        "error": {
            "type": "object",
            "required": ["type", "message", "details"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "validation",
                        "bad_request",
                        "unauthorized",
                        "forbidden",
                        "not_found",
                        "method_not_allowed",
                        "conflict",
                        "unsupported_media_type",
                        "rate_limited",
                        "internal",
                        "upstream_unavailable",
                        "upstream_timeout",
                    ],
                },
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "nullable": True,
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        },
    },
}

_META_SCHEMA = {
    "type": "object",
    "properties": {"total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}},
}

_ERRORS_BY_METHOD = {
    "get": ("400", "401", "403", "404"),
    "post": ("400", "401", "403", "404", "409", "415"),
    "put": ("400", "401", "403", "404", "409", "415"),
    "patch": ("400", "401", "403", "404", "409", "415"),
    "delete": ("400", "401", "403", "404", "409"),
}

_DESCRIPTIONS = {
    "400": "Validation failed or malformed request.",
    "401": "Missing, malformed, expired or forged token.",
    "403": "The caller's role does not allow this operation.",
    "404": "Not found.",
    "409": "Conflict with the current state.",
    "415": "Unsupported media type.",
}


def _wrap(schema: dict, *, is_list: bool) -> dict:
    """Return the success envelope around ``schema``; lists carry ``meta``."""
    properties = {
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "data": schema,
    }
    if is_list:
        properties["meta"] = {"$ref": f"#/components/schemas/{META_COMPONENT}"}
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


def json_request_body_only(operation: dict) -> None:
    """Keep only the ``application/json`` request body (the first one's schema if a view has no JSON)."""
    content = operation.get("requestBody", {}).get("content")
    if not content or list(content) == [JSON_MEDIA_TYPE]:
        return
    media = content.get(JSON_MEDIA_TYPE) or next(iter(content.values()))
    operation["requestBody"]["content"] = {JSON_MEDIA_TYPE: media}


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
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    # Copies: the document may be mutated later and these templates serve every call.
    schemas.setdefault(ERROR_COMPONENT, copy.deepcopy(_ERROR_SCHEMA))
    schemas.setdefault(META_COMPONENT, copy.deepcopy(_META_SCHEMA))
    error_ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _ERRORS_BY_METHOD:
                continue
            json_request_body_only(operation)
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
