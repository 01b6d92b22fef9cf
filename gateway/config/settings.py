"""Settings of the gateway: the shared ones without a database, plus where the upstreams live.

Upstream URLs come from ``<NAME>_SERVICE_URL``; their defaults follow ``ERP_PORT_BASE``
(CONTRACT §7: the gateway at base, the services at base+1 ... base+5 in the order of §1).
"""

from pathlib import Path

from common.settings import env, env_int, service_settings

globals().update(
    service_settings(
        name="gateway",
        title="ERP API gateway",
        apps=["proxy"],
        base_dir=Path(__file__).resolve().parent.parent,
        with_database=False,
    )
)

PORT_BASE = env_int("ERP_PORT_BASE", 8000)
# Offsets from ERP_PORT_BASE, in the order of CONTRACT §1.
UPSTREAM_PORT_OFFSETS = {"contact": 1, "auth": 2, "inventory": 3, "sales": 4, "purchase": 5}


def _upstream_url(service: str) -> str:
    default = f"http://127.0.0.1:{PORT_BASE + UPSTREAM_PORT_OFFSETS[service]}"
    return env(f"{service.upper()}_SERVICE_URL", default).rstrip("/")


GATEWAY = {
    # Service name -> base URL; proxy.routes names these keys.
    "UPSTREAMS": {service: _upstream_url(service) for service in UPSTREAM_PORT_OFFSETS},
    # Seconds to wait for an upstream's answer (504 after) and for a TCP connection (503 after).
    "UPSTREAM_TIMEOUT": float(env("GATEWAY_UPSTREAM_TIMEOUT", "10")),
    "CONNECT_TIMEOUT": float(env("GATEWAY_CONNECT_TIMEOUT", "2")),
    # /health asks every upstream's /health/ready with this (short) timeout.
    "HEALTH_TIMEOUT": float(env("GATEWAY_HEALTH_TIMEOUT", "2")),
    # /api/schema/: how long a service's fetched document is reused.
    "SCHEMA_CACHE_SECONDS": float(env("GATEWAY_SCHEMA_CACHE_SECONDS", "60")),
    # Kept-alive connections per upstream; match the gunicorn threads per worker.
    "POOL_SIZE": env_int("GATEWAY_POOL_SIZE", 32),
}

# The shared client (common.http) must call the same auth_svc as the routes.
ERP["AUTH_SERVICE_URL"] = GATEWAY["UPSTREAMS"]["auth"]  # noqa: F821 (set by service_settings above)

