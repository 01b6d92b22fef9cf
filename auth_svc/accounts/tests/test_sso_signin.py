"""The back office's sign-in page: the API login's lockout and throttles, one set of counters for both."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNIN = "/sso/signin/"
AUTHORIZE_NEXT = "/admin/auth/sso/authorize/?client_id=contact-admin&response_type=code"


def sign_in(client, email, password, next_url=AUTHORIZE_NEXT, **extra):
    return client.post(SIGNIN, {"email": email, "password": password, "next": next_url}, **extra)


def api_login(api_client, email, password):
    return api_client.post("/login", {"email": email, "password": password}, format="json")


def test_the_sign_in_page_is_a_form_with_a_csrf_token(client):
    # when
    response = client.get(f"{SIGNIN}?next=/admin/")

    # then
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content and b'name="password"' in response.content
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_right_password_signs_in_and_goes_on_to_the_authorize_request(client, user):
    # when
    response = sign_in(client, "IVY@example.com", PASSWORD)

    # then
    assert response.status_code == 302 and response["Location"] == AUTHORIZE_NEXT
    assert client.session[SESSION_KEY] == str(user.pk)


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", ""])
def test_a_foreign_next_goes_to_the_back_office_instead(client, user, next_url):
    response = sign_in(client, user.email, PASSWORD, next_url=next_url)
    assert response.status_code == 302 and response["Location"] == settings.SSO["BACK_OFFICE_URL"]


@pytest.mark.parametrize("state", ["wrong-password", "inactive", "unknown"])
def test_every_bad_credential_is_the_same_answer_and_no_session(client, user, state):
    # given
    email, password = user.email, PASSWORD
    if state == "wrong-password":
        password = "Wrong-Passw0rd!"
    elif state == "inactive":
        user.is_active = False
        user.save()
    else:
        email = "nobody@example.com"

    # when
    response = sign_in(client, email, password)

    # then
    assert response.status_code == 200
    assert b"Invalid email or password." in response.content
    assert SESSION_KEY not in client.session


def test_six_wrong_passwords_at_the_page_lock_the_account_for_the_api_login_too(client, api_client, user):
    # given: five failures (AUTH_LOGIN_MAX_FAILURES) at the sign-in page
    for _ in range(settings.ACCOUNTS["LOGIN_MAX_FAILURES"]):
        assert b"Invalid email or password." in sign_in(client, user.email, "Wrong-Passw0rd!").content

    # when: a sixth, and then the right password at the page and at the API
    sixth = sign_in(client, user.email, "Wrong-Passw0rd!")
    right_at_page = sign_in(client, user.email, PASSWORD)
    right_at_api = api_login(api_client, user.email, PASSWORD)

    # then: locked out at both, nobody signed in
    assert sixth.status_code == 429 and b"Too many failed sign-ins; try again in 15 minutes." in sixth.content
    assert 890 <= int(sixth["Retry-After"]) <= 900
    assert right_at_page.status_code == 429 and SESSION_KEY not in client.session
    assert right_at_api.status_code == 429
    user.refresh_from_db()
    assert user.last_login is None


def test_failures_at_the_api_lock_the_sign_in_page(client, api_client, user):
    # given
    for _ in range(settings.ACCOUNTS["LOGIN_MAX_FAILURES"]):
        assert api_login(api_client, user.email, "Wrong-Passw0rd!").status_code == 401

    # when
    response = sign_in(client, user.email, PASSWORD)

    # then
    assert response.status_code == 429 and SESSION_KEY not in client.session


def test_a_success_clears_the_failures_as_the_api_login_does(client, api_client, user):
    # given: four failures, then a success
    for _ in range(settings.ACCOUNTS["LOGIN_MAX_FAILURES"] - 1):
        sign_in(client, user.email, "Wrong-Passw0rd!")
    assert sign_in(client, user.email, PASSWORD).status_code == 302

    # when: four more failures
    for _ in range(settings.ACCOUNTS["LOGIN_MAX_FAILURES"] - 1):
        sign_in(client, user.email, "Wrong-Passw0rd!")

    # then: not locked out
    assert api_login(api_client, user.email, PASSWORD).status_code == 200


def test_through_the_gateway_the_page_s_urls_carry_its_mount_point(client):
    # when
    response = client.get(f"{SIGNIN}?next=/admin/", HTTP_X_FORWARDED_PREFIX="/admin/auth")

    # then
    assert response.status_code == 200
    assert b'href="/admin/auth/static/admin/css/login.css"' in response.content


def test_who_is_signed_in(client):
    # given
    user = UserFactory(email="fred@example.com", role="finance_manager")

    # when
    anonymous = client.get("/sso/session")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    signed_in = client.get("/sso/session")

    # then
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "unauthorized"
    assert signed_in.json()["data"] == {"email": "fred@example.com", "role": "finance_manager"}


@pytest.mark.parametrize(("method", "path"), [("put", SIGNIN), ("delete", "/sso/signout/"), ("post", "/sso/session")])
def test_the_provider_s_pages_take_only_their_methods(client, method, path):
    assert getattr(client, method)(path).status_code == 405
