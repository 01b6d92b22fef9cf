"""auth_svc's own settings: service secrets parsing, signing key, mail, cache."""

import pytest
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from accounts.checks import check_password_hasher, check_password_hashers_load
from config.settings import _password_hashers, _service_secrets


def test_service_secrets_are_parsed_into_a_mapping():
    # when
    secrets = _service_secrets(" contact:abc , inventory:x:y:z,, ")

    # then
    assert secrets == {"contact": "abc", "inventory": "x:y:z"}


@pytest.mark.parametrize("raw", ["contact", "contact:", ":secret"])
def test_malformed_service_secrets_stop_the_service(raw):
    with pytest.raises(ImproperlyConfigured):
        _service_secrets(raw)


def test_absent_service_secrets_admit_no_service():
    assert _service_secrets(None) == {}


def test_only_auth_svc_signs_and_with_rs256(settings):
    assert settings.SIMPLE_JWT["ALGORITHM"] == "RS256"
    assert "PRIVATE KEY" in settings.SIMPLE_JWT["SIGNING_KEY"]
    assert settings.SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] and settings.SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"]
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_django_s_password_hashers_are_used_unless_the_environment_names_others_first():
    md5 = "django.contrib.auth.hashers.MD5PasswordHasher"

    # the default: Django's own; the platform tests' local runs: MD5 hashes, a PBKDF2 hash made before still verifies
    assert _password_hashers([]) == global_settings.PASSWORD_HASHERS
    assert _password_hashers([md5]) == [md5, *global_settings.PASSWORD_HASHERS]


def test_deploy_check_refuses_a_first_password_hasher_that_is_not_djangos(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *global_settings.PASSWORD_HASHERS]
    assert [e.id for e in check_password_hasher()] == ["accounts.E001"]

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    assert check_password_hasher() == []


@pytest.mark.parametrize(
    "first",
    [
        # not there at all
        "django.contrib.auth.hashers.NoSuchHasher",
        # Django's own, so accounts.E001 lets it pass, yet its library is not installed: every login rehashes with it
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        # a class without an algorithm: Django raises ImproperlyConfigured, which the check let through
        "django.contrib.auth.hashers.BasePasswordHasher",
    ],
)
def test_a_first_password_hasher_that_cannot_hash_stops_the_service_at_its_start(settings, first):
    # (a change of PASSWORD_HASHERS empties Django's cache of loaded hashers: its setting_changed receiver)
    settings.PASSWORD_HASHERS = [first, *global_settings.PASSWORD_HASHERS]
    assert [e.id for e in check_password_hashers_load()] == ["accounts.E002"]

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    assert check_password_hashers_load() == []
