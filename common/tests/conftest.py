"""Fixtures shared by common's tests."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache

from tests.project.views import side_effects


@pytest.fixture(scope="session")
def foreign_private_key() -> str:
    """An RSA key that is not auth_svc's: tokens it signs must be refused."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(autouse=True)
def _fresh_state():
    # Throttle counters live in the cache; the counter view's side effects in memory.
    cache.clear()
    side_effects.count = 0
    yield
    cache.clear()
