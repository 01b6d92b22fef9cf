"""``/api/schema/``: one OpenAPI 3 document merged from every service's ``/schema/``.

Each service's paths are moved under their gateway prefix by running the routing table
in reverse, so a path the gateway does not route (health, schema, docs, metrics,
admin, service-token) drops out by itself, and so do the components only such paths use.
Components get the service as a prefix (``Contact_Customer``; ``SalesOrder`` has it
already) unless every service that defines the name defines it the same way and it is
shared (``ErrorEnvelope``); every ``$ref`` follows the renaming. A service that cannot be
fetched is left out and named in ``x-unavailable-services``.

Operations are tagged with their service and their ids get the words the gateway's prefix
adds to the service's path, once (``/api/sales/orders/{id}/confirm``: ``orders_confirm``
becomes ``sales_orders_confirm``; ``/api/auth/login``: ``auth_login`` stays): ids and tags
read well in a generated client and are unique across the document. Request bodies are
JSON only and public operations say ``security: []``, as every service documents them
(``common.openapi``).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util import Timeout

from common.openapi import COMMON_SCHEMAS, json_request_body_only, path_words, public_without_token
from common.request_id import HEADER as REQUEST_ID_HEADER

from .proxy import upstream_for
from .routes import SERVICE_TITLES, Route, routes_for

SCHEMA_PATH = "/schema/?format=json"
SCHEMA_TIMEOUT = 5.0
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Components every service gets from common.openapi: one copy in the merged document.
COMMON_COMPONENTS = frozenset(COMMON_SCHEMAS)

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()
# The documents last merged (by service; None: unavailable) and what they merged into.
_merged: tuple[dict[str, dict[str, Any] | None], dict[str, Any]] | None = None


def clear_cache() -> None:
    global _merged
    with _cache_lock:
        _cache.clear()
        _merged = None


def fetch_schema(base_url: str, request_id: str | None = None) -> dict[str, Any] | None:
    """Return a service's OpenAPI document (cached for a while), or None if it cannot be had."""
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(base_url)
    if cached and now - cached[0] < settings.GATEWAY["SCHEMA_CACHE_SECONDS"]:
        return cached[1]
    headers = {REQUEST_ID_HEADER: request_id} if request_id else {}
    try:
        response = upstream_for(base_url).request(
            "GET",
            SCHEMA_PATH,
            body=None,
            headers=headers,
            timeout=Timeout(connect=settings.GATEWAY["CONNECT_TIMEOUT"], read=SCHEMA_TIMEOUT),
        )
        document = json.loads(response.data) if response.status == 200 else None
    except (urllib3_exceptions.HTTPError, ValueError):
        document = None
    if not isinstance(document, dict) or "paths" not in document:
        return None
    with _cache_lock:
        _cache[base_url] = (now, document)
    return document


def merged_schema(request_id: str | None = None) -> dict[str, Any]:
    """Return the merged document, merged again only when a service's document is not the one last merged.

    ``/api/schema/`` is public and never rate limited, and merging five services' documents costs
    tens of milliseconds of CPU (a proxied request costs about one): merged per request, a flood
    of it would take the gateway's CPU from everyone. Each fetched document stays the same object
    while it is cached (:func:`fetch_schema`), so the last merge is kept while every one is.
    """
    global _merged
    upstreams = settings.GATEWAY["UPSTREAMS"]
    with ThreadPoolExecutor(max_workers=len(upstreams), thread_name_prefix="schema") as pool:
        futures = {name: pool.submit(fetch_schema, url, request_id) for name, url in upstreams.items()}
        documents = {name: future.result() for name, future in futures.items()}
    merged = _merged
    if (
        merged is not None
        and merged[0].keys() == documents.keys()
        and all(merged[0][name] is document for name, document in documents.items())
    ):
        return merged[1]
    document = merge_documents({name: doc for name, doc in documents.items() if doc is not None}, list(upstreams))
    _merged = (documents, document)  # one assignment: a concurrent reader sees the old pair or the new one
    return document


def merge_documents(documents: dict[str, dict[str, Any]], services: list[str]) -> dict[str, Any]:
    """Merge per-service documents (service name -> document); ``services`` lists all expected."""
    documents = {name: copy.deepcopy(doc) for name, doc in documents.items()}
    unavailable = [name for name in services if name not in documents]
    renames = _component_renames(documents)
    merged: dict[str, Any] = {
        "openapi": next((doc.get("openapi") for doc in documents.values() if doc.get("openapi")), "3.0.3"),
        "info": {
            "title": "ERP API",
            "version": "1.0.0",
            "description": _description(unavailable),
        },
        "x-unavailable-services": unavailable,
        "paths": {},
        "components": {},
        "tags": [],
    }
    for service, document in documents.items():
        mapping = renames[service]
        _rewrite_refs(document, mapping)
        merged["tags"].append({"name": SERVICE_TITLES.get(service, service), "description": _title(document)})
        for section, components in document.get("components", {}).items():
            target = merged["components"].setdefault(section, {})
            for name, component in components.items():
                target[mapping.get((section, name), name)] = component
        for path, path_item in document.get("paths", {}).items():
            routed = _gateway_path(service, path)
            if routed is None:
                continue
            route, gateway_path = routed
            _retag(service, route, path_item, mapping, document.get("security"))
            merged["paths"][gateway_path] = path_item
    _drop_unreferenced(merged)
    return merged


def _drop_unreferenced(merged: dict[str, Any]) -> None:
    """Drop the components that only paths the gateway does not route use (internal reads, service tokens).

    A client generated from the document would otherwise get models for requests it cannot make.
    Security schemes are named, not ``$ref``-ed, by the operations: they all stay.
    """
    components = merged["components"]
    reachable: set[tuple[str, str]] = set()
    pending = _refs(merged["paths"])
    while pending:
        key = pending.pop()
        if key not in reachable:
            reachable.add(key)
            pending |= _refs(components.get(key[0], {}).get(key[1], {}))
    for section, items in components.items():
        if section != "securitySchemes":
            for name in [name for name in items if (section, name) not in reachable]:
                del items[name]


def _title(document: dict[str, Any]) -> str:
    return document.get("info", {}).get("title", "")


def _description(unavailable: list[str]) -> str:
    text = "Every service's API under the gateway's `/api/...` prefixes (merged from each service's /schema/)."
    if unavailable:
        text += f"\n\nUnavailable while this document was built (their paths are missing): {', '.join(unavailable)}."
    return text


def _gateway_path(service: str, path: str) -> tuple[Route, str] | None:
    for route in routes_for(service):
        gateway_path = route.gateway_path(path)
        if gateway_path is not None:
            return route, gateway_path
    return None


def gateway_operation_id(route: Route, operation_id: str) -> str:
    """Prefix a service's operation id with the words the route's gateway prefix adds, each once."""
    upstream = set(path_words(route.upstream_prefix))
    added = [word for word in path_words(route.prefix)[1:] if word not in upstream]  # [1:]: every path has "api"
    return "_".join([*added, *(word for word in operation_id.split("_") if word not in added)])


def _component_renames(documents: dict[str, dict[str, Any]]) -> dict[str, dict[tuple[str, str], str]]:
    """Return, per service, (section, name) -> merged name for the components that must be renamed."""
    definitions: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for service, document in documents.items():
        for section, components in document.get("components", {}).items():
            for name, component in components.items():
                definitions.setdefault((section, name), []).append((service, component))

    def identical(key: tuple[str, str]) -> bool:
        bodies = [body for _, body in definitions[key]]
        return all(body == bodies[0] for body in bodies[1:])

    shared = {
        key
        for key in definitions
        if identical(key) and (len(definitions[key]) > 1 or key[1] in COMMON_COMPONENTS or key[0] == "securitySchemes")
    }
    # A component is only shared if everything it refers to is shared too.
    changed = True
    while changed:
        changed = False
        for key in list(shared):
            if any(ref not in shared for ref in _refs(definitions[key][0][1])):
                shared.discard(key)
                changed = True
    renames: dict[str, dict[tuple[str, str], str]] = {service: {} for service in documents}
    for key, defined_by in definitions.items():
        if key in shared:
            continue
        for service, _ in defined_by:
            renames[service][key] = _service_name(service, key[1])
    return renames


def _service_name(service: str, name: str) -> str:
    """``Contact_Customer``; a name that already starts with the service's title stays (``SalesOrder``).

    It is still unique: another service's component of that name gets its own title.
    """
    title = SERVICE_TITLES.get(service, service.title())
    return name if name.startswith(title) else f"{title}_{name}"


def _refs(node: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                section, _, name = value[len("#/components/") :].partition("/")
                found.add((section, name))
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def _rewrite_ref(value: str, mapping: dict[tuple[str, str], str]) -> str:
    if not value.startswith("#/components/"):
        return value
    section, _, name = value[len("#/components/") :].partition("/")
    return f"#/components/{section}/{mapping.get((section, name), name)}"


def _rewrite_refs(node: Any, mapping: dict[tuple[str, str], str]) -> None:
    """Rewrite every ``$ref`` (and discriminator mapping) in place to the merged names."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                node[key] = _rewrite_ref(value, mapping)
            elif key == "mapping" and isinstance(value, dict):
                node[key] = {k: _rewrite_ref(v, mapping) if isinstance(v, str) else v for k, v in value.items()}
            else:
                _rewrite_refs(value, mapping)
    elif isinstance(node, list):
        for item in node:
            _rewrite_refs(item, mapping)


def _retag(
    service: str,
    route: Route,
    path_item: dict[str, Any],
    mapping: dict[tuple[str, str], str],
    default_security: list | None,
) -> None:
    """Tag operations with their service, name them for the gateway path, follow renamed security schemes.

    An operation without its own ``security`` gets its service's top-level one: services
    may disagree, so the merged document has none at the top.
    """
    for method in HTTP_METHODS:
        operation = path_item.get(method)
        if not isinstance(operation, dict):
            continue
        operation["tags"] = [SERVICE_TITLES.get(service, service)]
        if "operationId" in operation:
            operation["operationId"] = gateway_operation_id(route, operation["operationId"])
        json_request_body_only(operation)
        public_without_token(operation)
        if "security" not in operation and default_security is not None:
            operation["security"] = copy.deepcopy(default_security)
        if "security" in operation:
            operation["security"] = [
                {mapping.get(("securitySchemes", scheme), scheme): scopes for scheme, scopes in requirement.items()}
                for requirement in operation["security"]
            ]
