"""Single sign-on of an admin, driven through its own URLs with the provider faked at the HTTP seam.

The provider's answers (token endpoint, userinfo) are replaced on the backend; the ID token
is a real RS256 JWT signed with the session's key, verified with its public half.
"""

import os
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User

from common.sso.backends import StaffOIDCBackend
from common.sso.middleware import CHECKED_UNTIL_KEY

from .test_gateway_prefix import THROUGH_GATEWAY

pytestmark = pytest.mark.django_db

SUBJECT = "0c9d7e4e-1111-4222-8333-944455556666"


@pytest.fixture(autouse=True)
def provider_key(settings):
    # The provider's signing key is the session's key pair: verify without a JWKS round trip.
    settings.OIDC_RP_IDP_SIGN_KEY = os.environ["JWT_PUBLIC_KEY"]


def id_token(private_key: str, **claims) -> str:
    now = int(time.time())
    payload = {"iss": settings.SSO["ISSUER"], "aud": settings.OIDC_RP_CLIENT_ID, "sub": SUBJECT}
    payload |= {"iat": now, "exp": now + 300, **claims}
    return jwt.encode(payload, private_key, algorithm="RS256")


def start_sign_in(client, **extra) -> dict:
    response = client.get("/admin/oidc/authenticate/?next=/admin/", **extra)
    assert response.status_code == 302
    return {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}


def sign_in(client, monkeypatch, jwt_private_key, *, role="inventory_manager", token_claims=None, **userinfo):
    """Run the callback of a sign-in whose provider says ``role``; return the callback's answer."""
    params = start_sign_in(client)
    token = id_token(jwt_private_key, nonce=params["nonce"], **(token_claims or {}))
    claims = {"sub": SUBJECT, "email": "ann@example.com", "role": role, **userinfo}
    monkeypatch.setattr(StaffOIDCBackend, "get_token", lambda self, payload: {"id_token": token, "access_token": "a1"})
    monkeypatch.setattr(StaffOIDCBackend, "get_userinfo", lambda self, access, id_, payload: dict(claims))
    return client.get(f"/admin/oidc/callback/?code=the-code&state={params['state']}")


def test_the_admin_login_page_starts_single_sign_on_with_pkce(client):
    # when: the admin's own login page
    response = client.get("/admin/login/?next=/admin/")

    # then: no password form, the OIDC flow
    assert response.status_code == 302 and response["Location"] == "/admin/oidc/authenticate/?next=%2Fadmin%2F"
    params = start_sign_in(client)
    assert params["client_id"] == "commontest-admin" and params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["redirect_uri"] == "http://testserver/admin/oidc/callback/"


def test_a_sign_in_opens_the_admin_and_keeps_the_time_zone(client, monkeypatch, jwt_private_key):
    # when
    response = sign_in(client, monkeypatch, jwt_private_key, role="admin", zoneinfo="Europe/Berlin")

    # then
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.session["staff_zoneinfo"] == "Europe/Berlin"
    assert client.session[CHECKED_UNTIL_KEY] > time.time()
    assert client.get("/admin/").status_code == 200
    assert User.objects.get(email="ann@example.com").is_superuser


@pytest.mark.parametrize(
    ("token_claims", "userinfo"),
    [
        ({"iss": "https://elsewhere.example/"}, {}),
        ({"aud": "another-client"}, {}),
        ({}, {"sub": "somebody-else"}),
        ({}, {"role": "superhero"}),
        ({}, {"email": None}),
        # PyJWT's own checks: no 500 from them (a provider's clock ahead of ours, a stale token)
        ({"exp": int(time.time()) - 600}, {}),
        ({"iat": int(time.time()) + 3600}, {}),
        ({"nbf": int(time.time()) + 3600}, {}),
    ],
    ids=[
        "other-issuer",
        "other-audience",
        "userinfo-of-another",
        "no-platform-role",
        "no-email",
        "expired",
        "issued-in-the-future",
        "not-yet-valid",
    ],
)
def test_a_sign_in_the_checks_refuse_lands_on_the_refusal_page(
    client, monkeypatch, jwt_private_key, token_claims, userinfo
):
    # when
    response = sign_in(client, monkeypatch, jwt_private_key, token_claims=token_claims, **userinfo)

    # then
    assert response.status_code == 302 and response["Location"] == "/admin/oidc/refused/"
    refused = client.get(response["Location"])
    assert refused.status_code == 403 and b"may not use this admin" in refused.content
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(is_staff=True).exists()


@pytest.mark.parametrize("failure", [requests.ConnectionError("refused"), requests.ReadTimeout("no answer")])
def test_a_provider_that_cannot_be_reached_is_a_refused_sign_in_not_a_500(client, monkeypatch, failure):
    # given
    params = start_sign_in(client)

    def unreachable(self, payload):
        raise failure

    monkeypatch.setattr(StaffOIDCBackend, "get_token", unreachable)

    # when
    response = client.get(f"/admin/oidc/callback/?code=c&state={params['state']}")
    refused = client.get(response["Location"])
    refused_again = client.get(response["Location"])

    # then: the page says the provider did not answer (not that the account was refused), once
    assert response.status_code == 302 and response["Location"] == "/admin/oidc/refused/"
    assert refused.status_code == 403 and b"did not answer in time" in refused.content
    assert b"may not use this admin" not in refused.content
    assert b"may not use this admin" in refused_again.content


def test_a_userinfo_answer_that_is_no_object_is_a_refused_sign_in(client, monkeypatch, jwt_private_key):
    # given: a provider whose userinfo is JSON, but a list
    params = start_sign_in(client)
    token = id_token(jwt_private_key, nonce=params["nonce"])
    monkeypatch.setattr(StaffOIDCBackend, "get_token", lambda self, payload: {"id_token": token, "access_token": "a1"})
    monkeypatch.setattr(StaffOIDCBackend, "get_userinfo", lambda self, access, id_, payload: ["ann@example.com"])

    # when
    response = client.get(f"/admin/oidc/callback/?code=the-code&state={params['state']}")

    # then
    assert response.status_code == 302 and response["Location"] == "/admin/oidc/refused/"


def test_an_error_answer_of_another_s_sign_in_does_not_sign_out(client, monkeypatch, jwt_private_key):
    # given: a signed-in admin
    sign_in(client, monkeypatch, jwt_private_key)

    # when: a link from anywhere to the callback, with an error and a state this session never issued
    response = client.get("/admin/oidc/callback/?error=access_denied&state=made-up")

    # then: a refused sign-in, and the session goes on (no logout by CSRF)
    assert response.status_code == 302 and response["Location"] == "/admin/oidc/refused/"
    assert "_auth_user_id" in client.session
    assert client.get("/admin/").status_code == 200


def test_the_provider_s_error_answer_to_this_session_s_sign_in_is_a_refusal(client, monkeypatch, jwt_private_key):
    # given: a sign-in this session started
    sign_in(client, monkeypatch, jwt_private_key)
    params = start_sign_in(client)

    # when: the provider answers it with an error
    response = client.get(f"/admin/oidc/callback/?error=access_denied&state={params['state']}")

    # then: the library's way: the state is used up and nobody stays signed in
    assert response.status_code == 302 and response["Location"] == "/admin/oidc/refused/"
    assert "_auth_user_id" not in client.session
    assert params["state"] not in client.session.get("oidc_states", {})


def test_signing_out_of_an_admin_goes_on_to_the_provider_s_sign_out(client, monkeypatch, jwt_private_key):
    # given
    sign_in(client, monkeypatch, jwt_private_key)

    # when
    refused_get = client.get("/admin/logout/")
    response = client.post("/admin/logout/")

    # then
    assert refused_get.status_code == 405
    assert response.status_code == 302 and response["Location"] == settings.SSO["LOGOUT_URL"]
    assert "_auth_user_id" not in client.session


# ---------------------------------------------------------------- the re-check of open sessions


def _due(client):
    session = client.session
    session[CHECKED_UNTIL_KEY] = 0
    session.save()


def _userinfo(monkeypatch, answer):
    def get_userinfo(self, access_token, id_token, payload):
        assert access_token == "a1"  # the sign-in's access token, kept in the session
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(StaffOIDCBackend, "get_userinfo", get_userinfo)


def _refusal(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status}", response=response)


def test_a_session_is_not_asked_about_again_before_it_is_due(client, monkeypatch, jwt_private_key):
    # given
    sign_in(client, monkeypatch, jwt_private_key)
    _userinfo(monkeypatch, AssertionError("asked too early"))

    # when / then
    assert client.get("/admin/").status_code == 200


def test_a_demotion_takes_effect_at_the_re_check(client, monkeypatch, jwt_private_key):
    # given: an admin's open session
    sign_in(client, monkeypatch, jwt_private_key, role="admin")
    _due(client)
    _userinfo(monkeypatch, {"sub": SUBJECT, "email": "ann@example.com", "role": "inventory_manager"})

    # when
    response = client.get("/admin/")

    # then: still signed in, as an inventory manager now
    assert response.status_code == 200
    user = User.objects.get(email="ann@example.com")
    assert not user.is_superuser and list(user.groups.values_list("name", flat=True)) == ["inventory_manager"]
    assert client.session[CHECKED_UNTIL_KEY] > time.time()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_deactivated_account_s_session_ends_at_the_re_check(client, monkeypatch, jwt_private_key, method):
    # given: the provider now refuses the sign-in's token (the account was deactivated)
    sign_in(client, monkeypatch, jwt_private_key)
    _due(client)
    _userinfo(monkeypatch, _refusal(401))

    # when: any request, a POST as much as a GET
    response = getattr(client, method)("/admin/auth/group/add/", {"name": "sneaky"})

    # then: the session is gone, nothing was written, the local user is inactive
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next=")
    assert "_auth_user_id" not in client.session
    assert not User.objects.get(email="ann@example.com").is_active
    from django.contrib.auth.models import Group

    assert not Group.objects.filter(name="sneaky").exists()


def test_behind_the_gateway_a_session_ended_at_the_re_check_signs_in_again_under_the_mount_point(
    client, monkeypatch, jwt_private_key
):
    # given: an open session, due for its re-check, refused by the provider
    sign_in(client, monkeypatch, jwt_private_key)
    _due(client)
    _userinfo(monkeypatch, _refusal(401))

    # when: a page through the gateway (which forwards /admin/commontest/<rest> as /<rest>)
    response = client.get("/auth/group/", **THROUGH_GATEWAY)

    # then: the admin's sign-in at its mount point, back to that page afterwards
    assert response.status_code == 302
    assert response["Location"] == "/admin/commontest/login/?next=/admin/commontest/auth/group/"
    assert "_auth_user_id" not in client.session


def test_an_account_that_lost_its_role_is_signed_out_at_the_re_check(client, monkeypatch, jwt_private_key):
    # given
    sign_in(client, monkeypatch, jwt_private_key)
    _due(client)
    _userinfo(monkeypatch, {"sub": SUBJECT, "email": "ann@example.com"})

    # when
    response = client.get("/admin/")

    # then
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    assert not User.objects.get(email="ann@example.com").is_staff


@pytest.mark.parametrize(
    "failure",
    # down; or a signed userinfo (a JWT) that fails PyJWT's own checks: no 500 either way
    [requests.ConnectionError("down"), jwt.ExpiredSignatureError("Signature has expired")],
    ids=["unreachable", "signed-answer-expired"],
)
def test_a_provider_that_cannot_be_asked_ends_the_session_but_deactivates_nobody(
    client, monkeypatch, jwt_private_key, failure
):
    # given
    sign_in(client, monkeypatch, jwt_private_key)
    _due(client)
    _userinfo(monkeypatch, failure)

    # when
    response = client.get("/admin/")

    # then: fails closed, and the next sign-in works as ever
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    assert User.objects.get(email="ann@example.com").is_active


def test_a_session_not_opened_by_single_sign_on_is_not_re_checked(client, monkeypatch, admin_user):
    # given: a test's forced login (no access token in the session)
    client.force_login(admin_user)
    _userinfo(monkeypatch, AssertionError("a session without a token was re-checked"))

    # when / then
    assert client.get("/admin/").status_code == 200
