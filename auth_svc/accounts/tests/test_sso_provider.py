"""auth_svc as the OpenID Connect provider: the code flow, the claims, and what a deactivation revokes."""

import base64
import hashlib
import os
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.conf import settings
from oauth2_provider.models import AccessToken, get_application_model

from common.roles import ADMIN, FINANCE_MANAGER

from .. import services
from ..sso.clients import sso_clients_register
from ..sso.conf import SsoClient, sso_clients_parse
from .factories import UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_URL = "http://localhost:8000"
CLIENT = SsoClient("contact", "contact-admin", "contact-client-secret")
REDIRECT_URI = "http://localhost:8000/admin/contact/oidc/callback/"
VERIFIER = "v" * 64


@pytest.fixture
def application():
    sso_clients_register(clients=[CLIENT], public_url=PUBLIC_URL)
    return get_application_model().objects.get(client_id=CLIENT.client_id)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize(client, **overrides):
    params = {
        "response_type": "code",
        "client_id": CLIENT.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": "the-state",
        "nonce": "the-nonce",
        "code_challenge": _challenge(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }
    return client.get("/sso/authorize/", params)


def code_flow(client, user) -> dict:
    """Sign ``user`` in at the provider and run the code flow; return the token endpoint's answer."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = authorize(client)
    assert response.status_code == 302, response.content
    query = parse_qs(urlsplit(response["Location"]).query)
    token = client.post(
        "/sso/token/",
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT.client_id,
            "client_secret": CLIENT.secret,
            "code_verifier": VERIFIER,
        },
    )
    assert token.status_code == 200, token.content
    return token.json()


def userinfo(client, access_token):
    return client.get("/sso/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def test_no_consent_screen_for_the_platform_s_own_admins(client, application, user):
    # given
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    # when
    response = authorize(client)

    # then: straight back to the admin with a code, naming the issuer (RFC 9207: no mix-up)
    assert response.status_code == 302 and response["Location"].startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["state"] == ["the-state"] and query["iss"] == [settings.SSO["ISSUER"]]


def test_without_a_session_the_authorize_request_goes_to_the_sign_in_page(client, application):
    response = authorize(client)
    assert response.status_code == 302 and response["Location"].startswith("/sso/signin/?next=/sso/authorize/")


def test_a_redirect_uri_not_registered_is_refused(client, application, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = authorize(client, redirect_uri="https://evil.example/admin/contact/oidc/callback/")
    assert response.status_code == 400


def test_the_id_token_is_rs256_with_the_platform_key_and_carries_email_and_role(client, application, user):
    # when
    answer = code_flow(client, user)

    # then: verified with the public key every service already holds
    claims = jwt.decode(
        answer["id_token"], os.environ["JWT_PUBLIC_KEY"], algorithms=["RS256"], audience=CLIENT.client_id
    )
    assert claims["iss"] == settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] == settings.SSO["ISSUER"]
    assert (claims["sub"], claims["email"], claims["role"], claims["nonce"]) == (
        str(user.pk),
        "ivy@example.com",
        "inventory_manager",
        "the-nonce",
    )
    # ... and it is no API token: the services' JWT check wants another issuer and audience
    assert claims["iss"] != settings.SIMPLE_JWT["ISSUER"] and claims["aud"] != settings.SIMPLE_JWT["AUDIENCE"]


def test_userinfo_says_the_role_as_it_is_now(client, application, admin_user):
    # given: one of two admins signed in
    UserFactory(email="second@example.com", role=ADMIN)
    answer = code_flow(client, admin_user)

    # when: demoted after the sign-in
    services.user_change_role(user=admin_user, role=FINANCE_MANAGER)
    response = userinfo(client, answer["access_token"])

    # then
    assert response.status_code == 200
    assert response.json() == {
        "sub": str(admin_user.pk),
        "email": "root@example.com",
        "email_verified": True,
        "role": "finance_manager",
    }
    admin_user.refresh_from_db()
    assert admin_user.is_staff and not admin_user.is_superuser


def test_a_deactivation_revokes_the_provider_s_tokens(client, application, user, admin_user):
    # given
    answer = code_flow(client, user)

    # when
    services.user_deactivate(user=user)

    # then: the admins' re-check with the access token is refused
    assert userinfo(client, answer["access_token"]).status_code == 401
    assert not AccessToken.objects.filter(user=user).exists()


def test_an_inactive_account_s_token_is_refused_even_before_it_is_revoked(client, application, user):
    # given
    answer = code_flow(client, user)

    # when: deactivated behind the services' back
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    # then
    assert userinfo(client, answer["access_token"]).status_code == 401


def test_signing_out_ends_the_session_and_revokes_the_tokens(client, application, user):
    # given
    answer = code_flow(client, user)

    # when
    response = client.post("/sso/signout/")

    # then
    assert response.status_code == 302 and response["Location"] == settings.SSO["BACK_OFFICE_URL"]
    assert userinfo(client, answer["access_token"]).status_code == 401
    assert client.get("/sso/session").status_code == 401


NEW_PASSWORD = "Another-Sturdy-Pass-2027"


def _password_set_by_an_admin(user):
    services.user_password_set(user=user, password=NEW_PASSWORD)


def _password_reset(user):
    services.password_reset_confirm(
        reset_token=services._password_reset_token_create(user=user), new_password=NEW_PASSWORD
    )


@pytest.mark.parametrize("new_password", [_password_set_by_an_admin, _password_reset], ids=["admin-sets", "reset"])
def test_a_new_password_ends_the_back_office_sessions_too(client, application, user, new_password):
    # given: somebody signed in to the back office with the old password
    answer = code_flow(client, user)

    # when: the password is replaced (the owner took the account back)
    new_password(user)

    # then: the admins' re-check with that sign-in's token is refused, as after a deactivation
    assert userinfo(client, answer["access_token"]).status_code == 401
    assert not AccessToken.objects.filter(user=user).exists()


def test_the_provider_s_tokens_are_no_api_tokens(client, application, user):
    # given: what a back-office sign-in obtains
    answer = code_flow(client, user)

    # when / then: neither the ID token (RS256, the platform's key) nor the access token opens the API
    for token in (answer["id_token"], answer["access_token"]):
        response = client.get("/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401, response.content


def test_prompt_none_with_a_session_answers_with_a_code(client, application, user):
    # given
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    # when: a silent authorization request (OIDC Core 3.1.2.1)
    response = authorize(client, prompt="none")

    # then: no page shown, back with a code
    assert response.status_code == 302 and response["Location"].startswith(REDIRECT_URI + "?")
    assert "code" in parse_qs(urlsplit(response["Location"]).query)


def test_prompt_none_for_an_application_that_would_ask_consent_says_so(client, application, user):
    # given: an application that is not one of the platform's own admins
    application.skip_authorization = False
    application.save()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    # when
    response = authorize(client, prompt="none")

    # then
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["consent_required"]


def test_a_plain_pkce_challenge_gets_no_code(client, application, user):
    # given
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    # when: the verifier itself as the challenge (RFC 7636 "plain")
    response = authorize(client, code_challenge=VERIFIER, code_challenge_method="plain")

    # then
    query = parse_qs(urlsplit(response["Location"]).query)
    assert response.status_code == 302 and "code" not in query and query["error"] == ["invalid_request"]


def test_an_access_token_in_the_query_string_is_refused(client, application, user):
    # given
    answer = code_flow(client, user)

    # when: where proxies and logs keep it
    response = client.get(f"/sso/userinfo/?access_token={answer['access_token']}")

    # then
    assert response.status_code in (401, 403)
    assert userinfo(client, answer["access_token"]).status_code == 200


def test_the_provider_stores_no_usable_token(client, application, user):
    # when
    answer = code_flow(client, user)

    # then: only checksums at rest
    stored = AccessToken.objects.get(user=user)
    assert stored.token == "" and answer["access_token"] not in str(stored.__dict__)


def test_the_discovery_document_names_the_issuer_and_its_keys(client):
    # when
    discovery = client.get("/sso/.well-known/openid-configuration").json()
    jwks = client.get("/sso/.well-known/jwks.json").json()

    # then
    assert discovery["issuer"] == settings.SSO["ISSUER"]
    assert [key["kty"] for key in jwks["keys"]] == ["RSA"]


def test_no_application_management_pages_are_served(client, admin_user):
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/sso/applications/").status_code == 404
    assert client.get("/sso/register/").status_code == 404


# ---------------------------------------------------------------- registration from the environment


def test_registration_is_idempotent_and_follows_a_new_secret():
    # when
    first = sso_clients_register(clients=[CLIENT], public_url=PUBLIC_URL)
    again = sso_clients_register(clients=[CLIENT], public_url=PUBLIC_URL)
    rotated = sso_clients_register(clients=[SsoClient("contact", "contact-admin", "rotated")], public_url=PUBLIC_URL)

    # then
    assert (first, again, rotated) == (
        [("contact-admin", "created")],
        [("contact-admin", "unchanged")],
        [("contact-admin", "updated")],
    )
    [application] = get_application_model().objects.all()
    assert application.redirect_uris == REDIRECT_URI and application.skip_authorization
    assert application.algorithm == "RS256" and application.client_type == "confidential"
    from django.contrib.auth.hashers import check_password

    assert check_password("rotated", application.client_secret)
    assert not check_password(CLIENT.secret, application.client_secret)


def test_the_command_registers_what_the_environment_names(settings):
    from io import StringIO

    from django.core.management import call_command

    # given
    settings.SSO_PROVIDER = {
        "CLIENTS": sso_clients_parse("contact:c-admin:s1,auth:a-admin:s2"),
        "PUBLIC_URL": PUBLIC_URL,
    }

    # when
    out = StringIO()
    call_command("register_sso_clients", stdout=out)

    # then
    assert out.getvalue().splitlines() == ["c-admin: created", "a-admin: created"]
    assert sorted(get_application_model().objects.values_list("client_id", "redirect_uris")) == [
        ("a-admin", "http://localhost:8000/admin/auth/oidc/callback/"),
        ("c-admin", "http://localhost:8000/admin/contact/oidc/callback/"),
    ]


@pytest.mark.parametrize("raw", ["contact:only-id", "billing:x:y", "contact::secret", ":x:y"])
def test_a_malformed_client_list_stops_the_start(raw):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        sso_clients_parse(raw)


# ---------------------------------------------------------------- the auth admin's own staff user


def test_in_auth_svc_the_platform_user_is_the_staff_user(user, admin_user):
    from common.sso.claims import StaffClaims

    from ..models import User
    from ..sso.staff import staff_user_sync

    # when: the claims of an existing account, of one the platform lost, of one it never had
    same = staff_user_sync(claims=StaffClaims(email="ivy@example.com", role="inventory_manager", zoneinfo=None))
    promoted = staff_user_sync(claims=StaffClaims(email="IVY@example.com", role=ADMIN, zoneinfo=None))
    roleless = staff_user_sync(claims=StaffClaims(email="root@example.com", role=None, zoneinfo=None))
    new = staff_user_sync(claims=StaffClaims(email="new@example.com", role="finance_manager", zoneinfo=None))

    # then
    assert same == user and promoted == user and roleless is None
    assert User.objects.filter(pk=user.pk, role=ADMIN, is_staff=True, is_superuser=True).exists()
    assert User.objects.filter(pk=admin_user.pk, is_staff=False, is_superuser=False).exists()
    assert new.role == "finance_manager" and new.is_staff and not new.has_usable_password()


def test_a_user_deactivated_on_the_platform_stays_out_whatever_the_claims(user):
    from common.sso.claims import StaffClaims

    from ..sso.staff import staff_user_sync

    user.is_active = False
    user.save()
    assert staff_user_sync(claims=StaffClaims(email=user.email, role=ADMIN, zoneinfo=None)) is None


# Issue 26: a replayed code, a failed PKCE check, and what discovery advertises.


def _code(client, user) -> str:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = authorize(client)
    assert response.status_code == 302, response.content
    return parse_qs(urlsplit(response["Location"]).query)["code"][0]


def _redeem(client, code: str, verifier: str = VERIFIER):
    return client.post(
        "/sso/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT.client_id,
            "client_secret": CLIENT.secret,
            "code_verifier": verifier,
        },
    )


def test_a_replayed_code_revokes_what_its_first_redemption_issued(client, application, user):
    # given: a code redeemed once, its tokens working
    code = _code(client, user)
    first = _redeem(client, code).json()
    assert userinfo(client, first["access_token"]).status_code == 200

    # when: the same code again (RFC 6749 §4.1.2: it leaked)
    replay = _redeem(client, code)

    # then: refused, and the first redemption's access and refresh tokens no longer work
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    assert userinfo(client, first["access_token"]).status_code == 401
    refreshed = client.post(
        "/sso/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": CLIENT.client_id,
            "client_secret": CLIENT.secret,
        },
    )
    assert refreshed.status_code == 400
    assert AccessToken.objects.filter(user=user).count() == 0


def test_a_code_whose_pkce_check_failed_is_dead_even_with_the_right_verifier(client, application, user):
    # given
    code = _code(client, user)

    # when: a wrong verifier first (an attacker holding the code), then the right one
    wrong = _redeem(client, code, verifier="w" * 64)
    right = _redeem(client, code)

    # then
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert (right.status_code, right.json()["error"]) == (400, "invalid_grant")
    assert AccessToken.objects.filter(user=user).count() == 0


def test_the_discovery_document_advertises_only_what_is_accepted(client):
    # when
    discovery = client.get("/sso/.well-known/openid-configuration").json()

    # then: RS256 ID tokens and the code flow only (HS256 and the hybrid and implicit types are refused)
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert discovery["response_types_supported"] == ["code"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["grant_types_supported"] == ["authorization_code", "refresh_token"]
