"""The settings fragment every service with an admin adds: ``staff_sign_in_settings(SERVICE_NAME, ...)``.

In ``config/settings.py``, once ``SERVICE_NAME`` is set (it reads ``SERVICE_NAME``, ``DEBUG``,
``MIDDLEWARE`` and ``ALLOWED_HOSTS`` from the module and sets what it returns)::

    staff_sign_in(globals())

Environment (CONTRACT §7; docs/back-office.md):

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
PREFIX_MIDDLEWARE = "common.sso.middleware.GatewayPrefixMiddleware"
RECHECK_MIDDLEWARE = "common.sso.middleware.StaffRecheckMiddleware"
AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


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


def _client_secret(debug: bool) -> str:
    secret = env("SSO_CLIENT_SECRET")
    if secret:
        return secret
    if debug:
        return "insecure-dev-sso-client-secret"
    raise ImproperlyConfigured("SSO_CLIENT_SECRET is required when DJANGO_DEBUG is off (the admin's OIDC client).")


def _with_middleware(middleware: list[str]) -> list[str]:
    result = [PREFIX_MIDDLEWARE, *middleware]
    result.insert(result.index(AUTHENTICATION_MIDDLEWARE) + 1, RECHECK_MIDDLEWARE)
    return result


def staff_sign_in_settings(
    service: str,
    *,
    debug: bool,
    middleware: list[str],
    allowed_hosts: list[str],
    secure_cookies: bool = False,
    csrf_trusted_origins: list[str] = (),
    session_cookie_path: str | None = None,
) -> dict:
    """Return the settings that make ``service``'s admin an OIDC client behind the gateway."""
    public = public_url()
    issuer = default_issuer()
    internal_provider = (env("AUTH_SERVICE_URL") or "http://127.0.0.1:8002").rstrip("/") + "/sso"
    mount = f"/admin/{service}"
    public_host = urlsplit(public).hostname
    return {
        "MIDDLEWARE": _with_middleware(middleware),
        "AUTHENTICATION_BACKENDS": ["common.sso.backends.StaffOIDCBackend"],
        "ALLOWED_HOSTS": [*allowed_hosts, *([public_host] if public_host not in allowed_hosts else [])],
        "STATIC_URL": "/static/",
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "common.sso.static.ScriptPrefixStaticFilesStorage"},
        },
        # Cookies are per host, not per port or service: through the one gateway every admin
        # needs cookies of its own name, sent only to its own mount point.
        "SESSION_COOKIE_NAME": admin_session_cookie(service),
        "SESSION_COOKIE_PATH": session_cookie_path or f"{mount}/",
        "SESSION_COOKIE_AGE": env_int("SSO_SESSION_SECONDS", 12 * 3600),
        # Secure-only when TLS ends in front of the gateway (common.settings.base TLS_EDGE): one decision.
        "SESSION_COOKIE_SECURE": secure_cookies,
        "CSRF_COOKIE_NAME": f"{admin_cookie_prefix(service)}csrftoken",
        "CSRF_COOKIE_PATH": f"{mount}/",
        "CSRF_COOKIE_SECURE": secure_cookies,
        "CSRF_TRUSTED_ORIGINS": sorted(
            {*csrf_trusted_origins, f"{urlsplit(public).scheme}://{urlsplit(public).netloc}"}
        ),
        # In the session: Django's cookie storage would set a "messages" cookie on "/", which
        # the gateway does not pass on (each admin gets its own cookies only).
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
        # mozilla-django-oidc
        "OIDC_RP_CLIENT_ID": env("SSO_CLIENT_ID") or f"{service}-admin",
        "OIDC_RP_CLIENT_SECRET": _client_secret(debug),
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": "openid email profile",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": env("SSO_AUTHORIZATION_ENDPOINT") or f"{issuer}/authorize/",
        "OIDC_OP_TOKEN_ENDPOINT": env("SSO_TOKEN_ENDPOINT") or f"{internal_provider}/token/",
        "OIDC_OP_USER_ENDPOINT": env("SSO_USERINFO_ENDPOINT") or f"{internal_provider}/userinfo/",
        "OIDC_OP_JWKS_ENDPOINT": env("SSO_JWKS_ENDPOINT") or f"{internal_provider}/.well-known/jwks.json",
        "OIDC_USE_PKCE": True,
        "OIDC_STORE_ACCESS_TOKEN": True,
        "OIDC_TIMEOUT": 5,
        "OIDC_CALLBACK_CLASS": "common.sso.views.StaffCallbackView",
        "LOGIN_REDIRECT_URL": "admin:index",
        "LOGIN_REDIRECT_URL_FAILURE": "sso-refused",
        "SSO": {
            "ISSUER": issuer,
            "ROLE_CLAIM": env("SSO_ROLE_CLAIM") or "role",
            "RECHECK_SECONDS": env_int("SSO_RECHECK_SECONDS", 60),
            "GATEWAY_PREFIX": mount,
            "GATEWAY_URLCONF": "common.sso.gateway_urls",
            "STAFF_USERS": "common.sso.staff",
            # auth_svc's sign-out ends the single sign-on session; another provider's, if named.
            "LOGOUT_URL": env("SSO_LOGOUT_URL") or ("" if env("SSO_ISSUER") else f"{issuer}/signout/"),
            "BACK_OFFICE_URL": f"{public}/admin/",
        },
    }


def staff_sign_in(namespace: dict, **options) -> None:
    """Set :func:`staff_sign_in_settings` in a settings module's namespace (``globals()``)."""
    namespace.update(
        staff_sign_in_settings(
            namespace["SERVICE_NAME"],
            debug=namespace["DEBUG"],
            middleware=namespace["MIDDLEWARE"],
            allowed_hosts=namespace["ALLOWED_HOSTS"],
            secure_cookies=namespace["TLS_EDGE"],
            csrf_trusted_origins=namespace.get("CSRF_TRUSTED_ORIGINS", []),
            **options,
        )
    )
