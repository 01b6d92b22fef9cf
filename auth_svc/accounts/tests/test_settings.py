"""auth_svc's own settings: service secrets parsing, signing key, mail, cache."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import _service_secrets


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
