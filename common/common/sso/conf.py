"""What a service's admin settings are made of: values for ``config/settings.py`` to assign by name.

The settings every admin shares live in :mod:`common.settings.service`; what depends on the
service (cookie names and paths, the OIDC client id, ``SSO``) each service assigns itself::

    SESSION_COOKIE_NAME = admin_session_cookie(SERVICE_NAME)
    SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = admin_cookie_path(SERVICE_NAME)
    CSRF_COOKIE_NAME = admin_csrf_cookie(SERVICE_NAME)
    OIDC_RP_CLIENT_ID = sso_client_id(SERVICE_NAME)
    OIDC_RP_CLIENT_SECRET = sso_client_secret(DEBUG)
    SSO = sso_settings(SERVICE_NAME)

Environment (contract §7; docs/back-office.md):

- ``SSO_CLIENT_ID`` (``<service>-admin``), ``SSO_CLIENT_SECRET`` (required with DEBUG off): this
  admin's OpenID Connect client at the provider.
- ``ERP_PUBLIC_URL``: the gateway as browsers reach it (``http://localhost:<ERP_PORT_BASE>``);
  the admin lives at ``<ERP_PUBLIC_URL>/admin/<service>/``, its CSRF trusted origin.
- The provider, auth_svc by default: ``SSO_ISSUER`` (``<ERP_PUBLIC_URL>/admin/auth/sso``),
  ``SSO_AUTHORIZATION_ENDPOINT`` (browser-facing, ``<issuer>/authorize/``), and, called by
  the service itself, ``SSO_TOKEN_ENDPOINT``, ``SSO_USERINFO_ENDPOINT``, ``SSO_JWKS_ENDPOINT``
  (``<AUTH_SERVICE_URL>/sso/token/``, ``/sso/userinfo/``, ``/sso/.well-known/jwks.json``);
  ``SSO_LOGOUT_URL`` where signing out of an admin sends the browser (the provider's sign-out).
- ``SSO_ROLE_CLAIM`` (``role``): the claim that carries the platform role (common.sso.claims).
- ``SSO_RECHECK_SECONDS`` (60): how often an open session is re-checked with the provider.
- ``SSO_SESSION_SECONDS`` (43200): how long an admin session lasts at most.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from common.settings.env import env, env_int

# Every service with a Django admin, each an OIDC client served at /admin/<service>/, in the
# order the back office's index lists them (the gateway's routes, auth_svc's SSO_CLIENTS).
ADMIN_SERVICES = ("contact", "inventory", "sales", "purchase", "auth")
# The gateway names an admin's mount point in this header (and never passes on a client's).
PREFIX_HEADER = "X-Forwarded-Prefix"


def admin_cookie_prefix(service: str) -> str:
    """Return how the names of ``service``'s admin cookies start (the gateway forwards only those)."""
    return f"{service}_admin_"


def admin_session_cookie(service: str) -> str:
    return f"{admin_cookie_prefix(service)}session"


def public_url() -> str:
    """Return the gateway's address as browsers use it (no trailing slash)."""
    return (env("ERP_PUBLIC_URL") or f"http://localhost:{env_int('ERP_PORT_BASE', 8000)}").rstrip("/")


def default_issuer() -> str:
    """auth_svc's issuer: its provider pages as the gateway serves them."""
    return env("SSO_ISSUER") or f"{public_url()}/admin/auth/sso"


def admin_mount(service: str) -> str:
    """Return where the gateway serves ``service``'s admin (``/admin/contact``)."""
    return f"/admin/{service}"


def admin_cookie_path(service: str) -> str:
    """Return the path the admin's cookies are sent to: its own mount point, no other admin's."""
    return f"{admin_mount(service)}/"


def admin_csrf_cookie(service: str) -> str:
    return f"{admin_cookie_prefix(service)}csrftoken"


def sso_client_id(service: str) -> str:
    """Return the admin's OIDC client id (``SSO_CLIENT_ID``, else ``<service>-admin``)."""
    return env("SSO_CLIENT_ID") or f"{service}-admin"


def sso_client_secret(debug: bool) -> str:
    """Return ``SSO_CLIENT_SECRET``; only with DEBUG may it be missing."""
    secret = env("SSO_CLIENT_SECRET")
    if secret:
        return secret
    if debug:
        return "insecure-dev-sso-client-secret"
    raise ImproperlyConfigured("SSO_CLIENT_SECRET is required when DJANGO_DEBUG is off (the admin's OIDC client).")


def with_public_host(allowed_hosts: list[str]) -> list[str]:
    """Return ``allowed_hosts`` plus the host of :func:`public_url`: the redirects name it."""
    public_host = urlsplit(public_url()).hostname
    return [*allowed_hosts, *([public_host] if public_host not in allowed_hosts else [])]


def with_public_origin(origins: list[str]) -> list[str]:
    """Return ``origins`` plus the origin of :func:`public_url` (the admin's forms post from it), sorted."""
    public = urlsplit(public_url())
    return sorted({*origins, f"{public.scheme}://{public.netloc}"})


def internal_provider_url() -> str:
    """Return auth_svc's provider pages as a service calls them (not through the gateway)."""
    return (env("AUTH_SERVICE_URL") or "http://127.0.0.1:8002").rstrip("/") + "/sso"


def sso_settings(
    service: str,
    *,
    gateway_urlconf: str = "common.sso.gateway_urls",
    staff_users: str = "common.sso.staff",
) -> dict:
    """Return the ``SSO`` setting of ``service``'s admin (read by common.sso's backend, middleware and views).

    ``gateway_urlconf`` routes the admin behind the gateway; ``staff_users`` keeps the local
    staff user in step (auth_svc names its own modules for both).
    """
    issuer = default_issuer()
    return {
        "ISSUER": issuer,
        "ROLE_CLAIM": env("SSO_ROLE_CLAIM") or "role",
        "RECHECK_SECONDS": env_int("SSO_RECHECK_SECONDS", 60),
        "GATEWAY_PREFIX": admin_mount(service),
        "GATEWAY_URLCONF": gateway_urlconf,
        "STAFF_USERS": staff_users,
        # auth_svc's sign-out ends the single sign-on session; another provider's, if named.
        "LOGOUT_URL": env("SSO_LOGOUT_URL") or ("" if env("SSO_ISSUER") else f"{issuer}/signout/"),
        "BACK_OFFICE_URL": f"{public_url()}/admin/",
    }
