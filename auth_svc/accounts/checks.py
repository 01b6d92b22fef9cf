"""System checks of auth_svc's settings.

- ``accounts.E001`` (``check --deploy``): the first of ``PASSWORD_HASHERS``, the one every new
  password and client secret is hashed with, is not one of Django's own slow hashers.
  ``AUTH_PASSWORD_HASHERS`` can put a fast one first for the platform tests' local runs; a
  production deployment must not.
- ``accounts.E002``: a hasher ``AUTH_PASSWORD_HASHERS`` names cannot be loaded. Django loads
  them at the first password it hashes, which would make every login a 500: refused at start.
"""

from __future__ import annotations

from django.conf import global_settings, settings
from django.contrib.auth.hashers import get_hashers
from django.core.checks import Error, Tags, register


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
        get_hashers()
    except (ImportError, AttributeError, TypeError, ValueError) as error:
        return [
            Error(
                f"a password hasher of PASSWORD_HASHERS cannot be loaded: {error}",
                hint="AUTH_PASSWORD_HASHERS names hashers by dotted path, comma-separated.",
                id="accounts.E002",
            )
        ]
    return []
