"""The routing table: every gateway prefix to the right service and path, nothing else."""

import pytest

from proxy.routes import resolve


@pytest.mark.parametrize(
    ("gateway_path", "service", "upstream_path", "public"),
    [
        ("/api/auth/register", "auth", "/register", True),
        ("/api/auth/login", "auth", "/login", True),
        ("/api/auth/refresh", "auth", "/refresh", True),
        ("/api/auth/forgot-password", "auth", "/forgot-password", True),
        ("/api/auth/reset-password", "auth", "/reset-password", True),
        ("/api/auth/logout", "auth", "/logout", False),
        ("/api/auth/me", "auth", "/me", False),
        ("/api/auth/users", "auth", "/users", False),
        ("/api/auth/users/7b0c/role", "auth", "/users/7b0c/role", False),
        ("/api/customers", "contact", "/customers", False),
        ("/api/customers/abc", "contact", "/customers/abc", False),
        ("/api/vendors/abc", "contact", "/vendors/abc", False),
        ("/api/items", "inventory", "/items", False),
        ("/api/items/abc/stock", "inventory", "/items/abc/stock", False),
        ("/api/items/abc/movements", "inventory", "/items/abc/movements", False),
        ("/api/sales/orders", "sales", "/orders", False),
        ("/api/sales/orders/abc/confirm", "sales", "/orders/abc/confirm", False),
        ("/api/purchase/orders/abc/receive", "purchase", "/orders/abc/receive", False),
    ],
)
def test_route_resolves_to_service_and_path(gateway_path, service, upstream_path, public):
    # when
    route, path = resolve(gateway_path)

    # then
    assert (route.service, path, route.public) == (service, upstream_path, public)


@pytest.mark.parametrize(
    "gateway_path",
    [
        "/api/auth/service-token",
        "/api/auth/login/extra",
        "/api/auth",
        "/api/customersX",
        "/api/sales",
        "/api/sales/ordersX",
        "/api/orders",
        "/api/health",
        "/api/admin/",
    ],
)
def test_unrouted_path_resolves_to_nothing(gateway_path):
    # when / then
    assert resolve(gateway_path) is None
