"""Fixtures of the accounts tests: users, clients holding real tokens, settings switches."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from erp_testkit import auth_client

from ..tokens import token_pair_for_user
from .factories import PASSWORD, UserFactory

SERVICE_SECRET = "contact-secret-for-tests"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(email="ivy@example.com", role=INVENTORY_MANAGER)


@pytest.fixture
def admin_user(db):
    return UserFactory(email="root@example.com", role=ADMIN)


@pytest.fixture
def finance_user(db):
    return UserFactory(email="fred@example.com", role=FINANCE_MANAGER)


def client_for(user) -> APIClient:
    """Return a client holding an access token minted by auth_svc itself for ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for_user(user=user).access_token}")
    return client


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def service_client() -> APIClient:
    return auth_client(token_type="service", user_id="sales")


@pytest.fixture
def open_registration(settings):
    settings.ACCOUNTS = {**settings.ACCOUNTS, "OPEN_REGISTRATION": True}


@pytest.fixture
def closed_registration(settings):
    settings.ACCOUNTS = {**settings.ACCOUNTS, "OPEN_REGISTRATION": False}


@pytest.fixture
def service_secrets(settings):
    settings.ACCOUNTS = {**settings.ACCOUNTS, "SERVICE_SECRETS": {"contact": SERVICE_SECRET}}


__all__ = ["PASSWORD", "client_for"]
