"""Settings of the gateway: common's base settings without a database, plus where the upstreams live.

Upstream URLs come from ``<NAME>_SERVICE_URL``; their defaults follow ``ERP_PORT_BASE``
(contract §7: the gateway at base, the services at base+1 ... base+5 in the order of §1).
"""

from pathlib import Path

from common.settings.base import *  # noqa: F403 (the shared settings)
from common.settings.base import ERP, REQUEST_MIDDLEWARE, SPECTACULAR_SETTINGS, STATELESS_APPS, TEMPLATES
from common.settings.env import env, env_bool, env_float, env_int, static_root
from common.sso.conf import public_url

SERVICE_NAME = "gateway"
BASE_DIR = Path(__file__).resolve().parent.parent

# No database: neither the admin, sessions and idempotency records, nor a readiness check of one.
DATABASES = {}
INSTALLED_APPS = [*STATELESS_APPS, "proxy"]
# No admin, sessions or idempotency records: what every process runs, and the frame refusal.
# Its own metrics (by upstream service, proxy.metrics) in place of the services' request counter.
MIDDLEWARE = [
    "proxy.metrics.GatewayMetricsMiddleware" if name == "common.metrics.MetricsMiddleware" else name
    for name in [*REQUEST_MIDDLEWARE, "django.middleware.clickjacking.XFrameOptionsMiddleware"]
]
TEMPLATES[0]["OPTIONS"]["context_processors"] = ["django.template.context_processors.request"]
# No database; ready once the withdrawn access is known (common.withdrawals).
ERP["READINESS_CHECKS"] = ["common.withdrawals.check_access_withdrawals"]
# Verified tokens are kept by the gateway's own cache, with its metrics (proxy.tokens), not twice.
ERP["VERIFIED_TOKENS_CACHE_SIZE"] = 0
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "ERP API gateway"

PORT_BASE = env_int("ERP_PORT_BASE", 8000)
# Offsets from ERP_PORT_BASE, in the order of contract §1.
UPSTREAM_PORT_OFFSETS = {"contact": 1, "auth": 2, "inventory": 3, "sales": 4, "purchase": 5}


def _upstream_url(service: str) -> str:
    default = f"http://127.0.0.1:{PORT_BASE + UPSTREAM_PORT_OFFSETS[service]}"
    return env(f"{service.upper()}_SERVICE_URL", default).rstrip("/")


def default_pool_size() -> int:
    """Return one pooled connection per concurrent request: gthread's threads, gevent's greenlets.

    A pool smaller than the concurrency discards a connection after each request above it: a
    new TCP connection (and a resolver round trip) per request, plus a urllib3 warning line.
    Under gevent a worker serves up to ``worker_connections`` requests at once; connections are
    only opened when needed, so a large maximum costs nothing while the load is small.
    """
    if env("GUNICORN_WORKER_CLASS", "gthread").startswith("gevent"):
        return env_int("GUNICORN_WORKER_CONNECTIONS", 1000)
    return env_int("GUNICORN_THREADS", 8)


GATEWAY = {
    # Service name -> base URL; proxy.routes names these keys.
    "UPSTREAMS": {service: _upstream_url(service) for service in UPSTREAM_PORT_OFFSETS},
    # Seconds to wait for an upstream's answer (504 after) and for a TCP connection (503 after).
    "UPSTREAM_TIMEOUT": env_float("GATEWAY_UPSTREAM_TIMEOUT", 10.0),
    # ... on the CSV imports (IMPORT_BODY_PATHS): a file of 100,000 items takes up to a minute.
    "IMPORT_TIMEOUT": env_float("GATEWAY_IMPORT_TIMEOUT", 120.0),
    "CONNECT_TIMEOUT": env_float("GATEWAY_CONNECT_TIMEOUT", 2.0),
    # /health asks every upstream's /health/ready with this (short) timeout.
    "HEALTH_TIMEOUT": env_float("GATEWAY_HEALTH_TIMEOUT", 2.0),
    # /api/schema/: how long a service's fetched document is reused.
    "SCHEMA_CACHE_SECONDS": env_float("GATEWAY_SCHEMA_CACHE_SECONDS", 60.0),
    # Kept-alive connections per upstream and process: one per request the process can have in
    # flight (more are opened in a burst, just not kept). See default_pool_size.
    "POOL_SIZE": env_int("GATEWAY_POOL_SIZE", default_pool_size()),
    # A kept-alive upstream connection idle longer than this is closed, not reused: well under
    # the services' keep-alive (GUNICORN_KEEPALIVE, 5 s), so they never close one mid-request.
    "UPSTREAM_IDLE_SECONDS": env_float("GATEWAY_UPSTREAM_IDLE_SECONDS", 2.0),
    # Verified access tokens remembered per process (proxy.tokens); 0 turns the cache off.
    "TOKEN_CACHE_SIZE": env_int("GATEWAY_TOKEN_CACHE_SIZE", 10_000),
    # The back office's address as browsers use it (ERP_PUBLIC_URL): its sign-in redirects are
    # registered for this host alone, so /admin/ pages asked for under another are sent there.
    "PUBLIC_URL": public_url(),
    # Behind a TLS-terminating proxy (an Ingress, a load balancer) the peer is that proxy: the
    # client is the address it appended to X-Forwarded-For (proxy.proxy.upstream_headers).
    "BEHIND_TLS_PROXY": env_bool("GATEWAY_BEHIND_TLS_PROXY", False),
    # Token buckets per worker process (proxy.ratelimit): requests a second and burst per signed-in
    # user (the token's subject) and per client address without a valid token; a rate of 0 is no limit.
    "RATE_LIMITS": {
        "USER_RATE": env_float("GATEWAY_RATE_LIMIT_USER_RATE", 300.0),
        "USER_BURST": env_int("GATEWAY_RATE_LIMIT_USER_BURST", 600),
        "ANONYMOUS_RATE": env_float("GATEWAY_RATE_LIMIT_ANONYMOUS_RATE", 30.0),
        "ANONYMOUS_BURST": env_int("GATEWAY_RATE_LIMIT_ANONYMOUS_BURST", 60),
        # Buckets kept per limit and process at most (the least recently used go first).
        "MAX_BUCKETS": env_int("GATEWAY_RATE_LIMIT_MAX_BUCKETS", 100_000),
    },
}

# The shared client (common.http) must call the same auth_svc as the routes.
ERP["AUTH_SERVICE_URL"] = GATEWAY["UPSTREAMS"]["auth"]

# The gateway is the edge: a client's own X-Forwarded-Proto must not make a plain-HTTP
# request look secure. Behind a TLS-terminating proxy that sets it, opt in.
if not GATEWAY["BEHIND_TLS_PROXY"]:
    SECURE_PROXY_SSL_HEADER = None
