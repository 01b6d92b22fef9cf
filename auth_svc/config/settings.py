"""Settings of auth_svc: common's settings of a service (:mod:`common.settings.service`) plus its own.

auth_svc is the only service that holds the JWT *private* key (``JWT_PRIVATE_KEY`` or
``JWT_PRIVATE_KEY_FILE``; in DEBUG the local run's generated key). Its own environment:

- ``AUTH_OPEN_REGISTRATION`` (default off): while on, ``POST /register`` is public and the
  caller chooses the role; while off, registering needs an admin token.
- ``SERVICE_SECRETS``: one secret per service that may ask ``POST /service-token`` for a
  token, as ``name:secret`` pairs separated by commas, e.g.
  ``contact:s3cr3t,inventory:...,sales:...,purchase:...,gateway:...`` (a secret may
  contain ``:`` but not ``,``). Absent: no service can get a token.
- ``AUTH_LOGIN_MAX_FAILURES`` (default 5) failed logins per email and client IP within
  ``AUTH_LOGIN_FAILURE_WINDOW`` seconds (default 900) lock that pair out with 429;
  ``AUTH_LOGIN_MAX_FAILURES_PER_IP`` (default 50) failed logins from one client IP, whatever
  the emails, in the same window lock that IP out (no password spraying).
- ``AUTH_RESET_MAX_REQUESTS`` (default 5) ``POST /forgot-password`` requests per client IP
  and per email within ``AUTH_RESET_WINDOW`` seconds (default 3600); more answer 429.
- ``AUTH_TRUSTED_PROXY`` (default ``gateway``): the service whose own service token, sent in
  ``X-Gateway-Token``, makes its ``X-Forwarded-For`` believed for throttles and lockouts
  (an address alone proves nothing: on one host everybody is 127.0.0.1).
- ``AUTH_RESET_TOKEN_MINUTES`` (default 60): lifetime of a password-reset token.
- ``AUTH_PASSWORD_HASHERS`` (none): dotted paths of password hashers, comma-separated, put before
  Django's own list: new passwords and client secrets are hashed with the first, every listed one
  still verifies. Only the platform tests' local runs set it (MD5: a PBKDF2 hash of a million rounds
  is a third of a second of CPU per login, registration and back-office sign-in);
  ``check --deploy`` refuses a first hasher that is not one of Django's (accounts.E001).
- Back office (docs/back-office.md): auth_svc is the OpenID Connect provider of every
  admin. ``SSO_CLIENTS`` registers their applications (``<service>:<client_id>:<secret>``,
  comma-separated; ``manage.py register_sso_clients``), redirected to ``ERP_PUBLIC_URL``;
  ``SSO_ISSUER`` is its issuer (``<ERP_PUBLIC_URL>/admin/auth/sso``); ID tokens are signed
  RS256 with the JWT private key (one key pair, published as the provider's JWKS);
  ``SSO_ACCESS_TOKEN_SECONDS`` (28800) is how long an admin's access token lasts.
- Mail: ``EMAIL_HOST`` set means SMTP with ``EMAIL_PORT`` (587), ``EMAIL_HOST_USER``,
  ``EMAIL_HOST_PASSWORD``, ``EMAIL_USE_TLS`` (on), ``EMAIL_USE_SSL``; otherwise mail is
  written as files into ``<ERP_DATA_DIR>/mail`` (the local run; folder 0700, files 0600: they
  hold live reset tokens). Reset mails are sent by a Celery job once the request's row
  commits, not by the request (forgot-password answers in the same time for any email);
  ``AUTH_RESET_MAIL_RETRY_SECONDS`` (5) is its first retry while the mail server is away,
  ``AUTH_RESET_MAIL_SWEEP_AGE_SECONDS`` (300) the age at which the sweep sends a request itself. ``EMAIL_BACKEND``
  overrides both; ``DEFAULT_FROM_EMAIL`` is the sender.
"""

from pathlib import Path

from accounts.sso.conf import sso_clients_parse
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from common.settings.base import DEBUG, ERP, INSTALLED_APPS, SIMPLE_JWT, SPECTACULAR_SETTINGS
from common.settings.env import (
    data_dir,
    database_config,
    env,
    env_bool,
    env_int,
    env_list,
    jwt_private_key,
    static_root,
)
from common.settings.service import *  # noqa: F403 (the shared settings of a service)
from common.settings.service import AUTHENTICATION_BACKENDS
from common.sso.conf import (
    admin_cookie_path,
    admin_csrf_cookie,
    admin_session_cookie,
    default_issuer,
    public_url,
    sso_client_id,
    sso_client_secret,
    sso_settings,
)

SERVICE_NAME = "auth"
BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "Auth service"
# accounts first: its ``changepassword`` command replaces django.contrib.auth's (the first app wins).
INSTALLED_APPS = ["accounts", *INSTALLED_APPS, "rest_framework_simplejwt.token_blacklist", "oauth2_provider"]

AUTH_USER_MODEL = "accounts.User"


def _password_hashers(named: list[str]) -> list[str]:
    """``named`` first, then Django's own (a hash made by any of them still verifies), each once."""
    return list(dict.fromkeys([*named, *global_settings.PASSWORD_HASHERS]))


PASSWORD_HASHERS = _password_hashers(env_list("AUTH_PASSWORD_HASHERS"))

SIMPLE_JWT["SIGNING_KEY"] = jwt_private_key(DEBUG)
SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] = True
SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"] = True
SIMPLE_JWT["UPDATE_LAST_LOGIN"] = False

# Its admin is an OIDC client like every other (of this provider, or of the one configured).
# The session cookie covers /admin/: the provider's pages (/admin/auth/sso/) and the
# gateway's back-office index, which asks auth_svc who holds it.
SESSION_COOKIE_NAME = admin_session_cookie(SERVICE_NAME)
SESSION_COOKIE_PATH = "/admin/"
CSRF_COOKIE_NAME = admin_csrf_cookie(SERVICE_NAME)
CSRF_COOKIE_PATH = admin_cookie_path(SERVICE_NAME)
OIDC_RP_CLIENT_ID = sso_client_id(SERVICE_NAME)
OIDC_RP_CLIENT_SECRET = sso_client_secret(DEBUG)
# The admin behind the gateway routes the provider's pages too; its staff user is the platform user.
SSO = sso_settings(SERVICE_NAME, gateway_urlconf="accounts.sso.gateway_urls", staff_users="accounts.sso.staff")
# Passwords first (the API login and the sign-in page), then single sign-on for the admin.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", *AUTHENTICATION_BACKENDS]
# django-oauth-toolkit's authorize page sends a browser without a session here.
LOGIN_URL = "sso-signin"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": SIMPLE_JWT["SIGNING_KEY"] or "",
    "OIDC_ISS_ENDPOINT": default_issuer(),
    "OAUTH2_VALIDATOR_CLASS": "accounts.sso.validators.PlatformOAuth2Validator",
    "SCOPES": {"openid": "Sign in", "email": "Your email", "profile": "Your profile"},
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,
    # The code flow only: discovery lists what is accepted (the implicit and hybrid types are not).
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # RFC 9700 (the OAuth security BCP) now, not at django-oauth-toolkit 4.0: S256 PKCE only,
    # no implicit or password grant, no access token in a query string, tokens stored hashed,
    # the issuer named in the authorization response, a replayed refresh token revokes its family.
    # (http redirect URIs stay allowed: the local run's public URL is http://localhost.)
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("SSO_ACCESS_TOKEN_SECONDS", 8 * 3600),
    "ID_TOKEN_EXPIRE_SECONDS": 300,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 8 * 3600,
    # Its records in the admin follow the role matrix (read-only, admin only).
    "APPLICATION_ADMIN_CLASS": "accounts.sso.admin.ApplicationAdmin",
    "ACCESS_TOKEN_ADMIN_CLASS": "accounts.sso.admin.AccessTokenAdmin",
    "GRANT_ADMIN_CLASS": "accounts.sso.admin.GrantAdmin",
    "ID_TOKEN_ADMIN_CLASS": "accounts.sso.admin.IDTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "accounts.sso.admin.RefreshTokenAdmin",
}
SSO_PROVIDER = {
    "CLIENTS": sso_clients_parse(env("SSO_CLIENTS")),
    "PUBLIC_URL": public_url(),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login failure counters must be shared by every gunicorn worker: keep them in the
# database. The table is created by the accounts migration 0002 (no manual step).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "auth_cache",
    }
}


def _service_secrets(raw: str | None) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for entry in (raw or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, secret = entry.partition(":")
        if not sep or not name.strip() or not secret:
            raise ImproperlyConfigured("SERVICE_SECRETS must be 'name:secret' pairs separated by commas.")
        secrets[name.strip()] = secret
    return secrets


ACCOUNTS = {
    "OPEN_REGISTRATION": env_bool("AUTH_OPEN_REGISTRATION", False),
    "SERVICE_SECRETS": _service_secrets(env("SERVICE_SECRETS")),
    "LOGIN_MAX_FAILURES": env_int("AUTH_LOGIN_MAX_FAILURES", 5),
    "LOGIN_FAILURE_WINDOW": env_int("AUTH_LOGIN_FAILURE_WINDOW", 900),
    "LOGIN_MAX_FAILURES_PER_IP": env_int("AUTH_LOGIN_MAX_FAILURES_PER_IP", 50),
    "RESET_MAX_REQUESTS": env_int("AUTH_RESET_MAX_REQUESTS", 5),
    "RESET_WINDOW": env_int("AUTH_RESET_WINDOW", 3600),
    "RESET_TOKEN_MINUTES": env_int("AUTH_RESET_TOKEN_MINUTES", 60),
    # The reset mail job's first retry while the mail server is away (then doubling, jittered),
    # and how old a queued request must be before the sweep sends it itself (docs/jobs.md).
    "RESET_MAIL_RETRY_SECONDS": env_int("AUTH_RESET_MAIL_RETRY_SECONDS", 5),
    "RESET_MAIL_SWEEP_AGE_SECONDS": env_int("AUTH_RESET_MAIL_SWEEP_AGE_SECONDS", 300),
    "TRUSTED_PROXY": env("AUTH_TRUSTED_PROXY", "gateway"),
}

# auth_svc reads the withdrawn access from its own table, not over HTTP from itself (common.withdrawals).
ERP["ACCESS_WITHDRAWALS_FETCH"] = "accounts.selectors.access_withdrawals_since"

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "ERP <no-reply@example.com>")
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
else:
    # No mail server configured (DEBUG, the local run): keep the messages as files.
    EMAIL_BACKEND = env("EMAIL_BACKEND", "accounts.mail.PrivateFileEmailBackend")
    EMAIL_FILE_PATH = str(data_dir() / "mail")
