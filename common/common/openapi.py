"""drf-spectacular post-processing: describe the envelope the renderer really sends.

Every 2xx JSON body is wrapped as ``{status, message, data[, meta]}``, and every
operation lists the contract's error responses with the error envelope, so the
document matches the wire format without each view repeating it.
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


def envelope_postprocessing_hook(result, generator, request, public):
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: envelope the success and error bodies."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    # Copies: the document may be mutated later and these templates serve every call.
    schemas.setdefault(ERROR_COMPONENT, copy.deepcopy(_ERROR_SCHEMA))
    schemas.setdefault(META_COMPONENT, copy.deepcopy(_META_SCHEMA))
    error_ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _ERRORS_BY_METHOD:
                continue
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
