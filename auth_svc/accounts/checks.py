"""System checks of auth_svc's settings.

- ``accounts.E001`` (``check --deploy``): the first of ``PASSWORD_HASHERS``, the one every new
  password and client secret is hashed with, is not one of Django's own slow hashers.
  ``AUTH_PASSWORD_HASHERS`` can put a fast one first for the platform tests' local runs; a
  production deployment must not.
- ``accounts.E002``: a hasher ``AUTH_PASSWORD_HASHERS`` names cannot be loaded, or the first
  one's library (argon2-cffi, bcrypt) is not installed. Django loads them at the first password it
  hashes, and rehashes every password it verifies with the first: every login would be a 500.
  Refused at start (``migrate`` and the ``migrated`` wait run the checks).
"""

from __future__ import annotations

from django.conf import global_settings, settings
from django.contrib.auth.hashers import get_hashers
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def check_password_hasher(app_configs=None, **kwargs):
    first = settings.PASSWORD_HASHERS[0]
    if first in global_settings.PASSWORD_HASHERS:
        return []
    return [
        Error(
            f"passwords are hashed with {first}, which is not one of Django's password hashers",
            hint="Unset AUTH_PASSWORD_HASHERS: it is for the platform tests' local runs only.",
            id="accounts.E001",
        )
    ]


@register(Tags.security)
def check_password_hashers_load(app_configs=None, **kwargs):
    try:
        first = get_hashers()[0]
        if first.library is not None:  # Argon2, BCrypt: the library is imported at the first hash, not here
            first._load_library()
    except (ImportError, AttributeError, TypeError, ValueError, ImproperlyConfigured) as error:
        return [
            Error(
                f"a password hasher of PASSWORD_HASHERS cannot be loaded: {error}",
                hint="AUTH_PASSWORD_HASHERS names hashers by dotted path, comma-separated; the first one's library "
                "must be installed.",
                id="accounts.E002",
            )
        ]
    return []
