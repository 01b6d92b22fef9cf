"""The routing table (contract §4) as data: gateway path prefix -> upstream service and path.

A route matches its prefix exactly, or (unless ``exact``) the prefix followed by ``/...``;
the rest of the path is appended to ``upstream_prefix``. The first match wins. A path no
route matches (``/api/auth/service-token`` among them) is a 404 at the gateway.
The same table drives the merged OpenAPI document, in reverse.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str
    upstream_prefix: str
    public: bool = False
    exact: bool = False

    def upstream_path(self, path: str) -> str | None:
        """Return the upstream path for a gateway path, or None if this route does not match."""
        return _rebase(path, self.prefix, self.upstream_prefix, self.exact)

    def gateway_path(self, upstream_path: str) -> str | None:
        """Return the gateway path for an upstream path (the reverse of :meth:`upstream_path`)."""
        return _rebase(upstream_path, self.upstream_prefix, self.prefix, self.exact)


def _rebase(path: str, old: str, new: str, exact: bool) -> str | None:
    if path == old:
        return new
    if not exact and path.startswith(old + "/"):
        return new + path[len(old) :]
    return None


_PUBLIC_AUTH = ("register", "login", "refresh", "forgot-password", "reset-password")

ROUTES: tuple[Route, ...] = (
    *(Route(f"/api/auth/{name}", "auth", f"/{name}", public=True, exact=True) for name in _PUBLIC_AUTH),
    Route("/api/auth/logout", "auth", "/logout", exact=True),
    Route("/api/auth/me", "auth", "/me", exact=True),
    Route("/api/auth/users", "auth", "/users"),
    Route("/api/customers", "contact", "/customers"),
    Route("/api/vendors", "contact", "/vendors"),
    Route("/api/items", "inventory", "/items"),
    Route("/api/sales/orders", "sales", "/orders"),
    Route("/api/purchase/orders", "purchase", "/orders"),
    Route("/api/purchase/vendor-items", "purchase", "/vendor-items"),
    Route("/api/purchase/replenishment", "purchase", "/replenishment"),
)

# Display names for the merged document's tags and component prefixes.
SERVICE_TITLES = {
    "auth": "Auth",
    "contact": "Contact",
    "inventory": "Inventory",
    "sales": "Sales",
    "purchase": "Purchase",
}


def resolve(path: str) -> tuple[Route, str] | None:
    """Return the route for a gateway path and the upstream path, or None (404)."""
    for route in ROUTES:
        upstream_path = route.upstream_path(path)
        if upstream_path is not None:
            return route, upstream_path
    return None


def routes_for(service: str) -> list[Route]:
    return [route for route in ROUTES if route.service == service]
