"""The admin served under the gateway's mount point (common.sso.middleware.GatewayPrefixMiddleware)."""

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.django_db

THROUGH_GATEWAY = {"HTTP_X_FORWARDED_PREFIX": "/admin/commontest", "HTTP_X_FORWARDED_HOST": "localhost:8000"}


def test_every_url_the_admin_builds_carries_the_mount_point(client):
    # when: the sign-in dance as the browser sees it through the gateway
    index = client.get("/", **THROUGH_GATEWAY)
    login = client.get("/login/?next=/admin/commontest/", **THROUGH_GATEWAY)
    # (the gateway forwards /admin/commontest/<rest> as /<rest>)
    start = client.get(login["Location"].removeprefix("/admin/commontest"), **THROUGH_GATEWAY)

    # then
    assert index["Location"] == "/admin/commontest/login/?next=/admin/commontest/"
    assert login["Location"] == "/admin/commontest/oidc/authenticate/?next=%2Fadmin%2Fcommontest%2F"
    params = parse_qs(urlsplit(start["Location"]).query)
    assert start["Location"].startswith("http://localhost:8000/admin/auth/sso/authorize/?")
    assert params["redirect_uri"] == ["http://localhost:8000/admin/commontest/oidc/callback/"]


def test_pages_and_static_files_behind_the_gateway_and_on_the_service_itself(client, admin_user):
    # given
    client.force_login(admin_user)

    # when
    through = client.get("/", **THROUGH_GATEWAY)
    direct = client.get("/admin/")

    # then
    assert through.status_code == 200 and direct.status_code == 200
    assert b'href="/admin/commontest/static/admin/css/base.css"' in through.content
    assert b'href="/admin/commontest/auth/group/"' in through.content
    assert b'href="/static/admin/css/base.css"' in direct.content
    assert b'href="/admin/auth/group/"' in direct.content


@pytest.mark.parametrize("prefix", ["/admin/other", "/", "/admin/commontest/x"])
def test_another_prefix_is_ignored(client, prefix):
    # when: the service's own URLconf answers (no admin at its root)
    response = client.get("/", HTTP_X_FORWARDED_PREFIX=prefix)

    # then
    assert response.status_code == 404


def test_nothing_but_the_admin_is_served_under_the_mount_point(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/widgets", **THROUGH_GATEWAY).status_code == 404
    assert client.get("/health/live", **THROUGH_GATEWAY).status_code == 404


def test_the_admin_s_cookies_are_its_own():
    from django.conf import settings

    assert (settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_PATH) == (
        "commontest_admin_session",
        "/admin/commontest/",
    )
    assert (settings.CSRF_COOKIE_NAME, settings.CSRF_COOKIE_PATH) == (
        "commontest_admin_csrftoken",
        "/admin/commontest/",
    )
    assert settings.CSRF_TRUSTED_ORIGINS == ["http://localhost:8000"]
    # no cookie of its own on "/" (the gateway would not pass it on)
    assert settings.MESSAGE_STORAGE == "django.contrib.messages.storage.session.SessionStorage"
