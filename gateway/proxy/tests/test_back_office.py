"""The back office's one entry: the index at /admin/ and every admin under /admin/<service>/."""

import random

import pytest
from django.test import Client

from proxy import ratelimit

from .conftest import closed_port_url

ADMINS = ("contact", "inventory", "sales", "purchase", "auth")
COOKIES = "contact_admin_session=c1; contact_admin_csrftoken=t1; auth_admin_session=good; sales_admin_session=s1; x=y"


def _only(fakes):
    received = [(name, r) for name, fake in fakes.items() for r in fake.received]
    assert len(received) == 1, received
    return received[0]


@pytest.mark.parametrize("service", ADMINS)
def test_each_admin_is_served_under_its_mount_point(upstreams, service):
    # when
    response = Client().get(
        f"/admin/{service}/inventory/item/?q=mon", HTTP_HOST="localhost:8000", HTTP_X_FORWARDED_PREFIX="/forged"
    )

    # then: the path under the mount point, the gateway's prefix (never the client's)
    assert response.status_code == 200 and response["X-Upstream"] == service
    name, received = _only(upstreams)
    assert (name, received.method, received.target) == (service, "GET", "/inventory/item/?q=mon")
    assert received.header("X-Forwarded-Prefix") == f"/admin/{service}"
    assert received.header("X-Forwarded-Host") == "localhost:8000"


def test_an_admin_gets_only_its_own_cookies(upstreams):
    # when
    Client().get("/admin/contact/", HTTP_COOKIE=COOKIES)
    Client().get("/admin/inventory/", HTTP_COOKIE=COOKIES)

    # then: neither another admin's session nor the single sign-on session reaches a service
    assert upstreams["contact"].received[0].header("Cookie") == "contact_admin_session=c1; contact_admin_csrftoken=t1"
    assert upstreams["inventory"].received[0].header("Cookie") is None


def test_auth_s_pages_get_the_gateway_s_proof_for_the_sign_in_lockout(upstreams, gateway_credential):
    # when
    Client().post("/admin/auth/sso/signin/", "email=a%40example.com&password=x", "application/x-www-form-urlencoded")
    Client().post("/admin/contact/oidc/callback/", "", "application/x-www-form-urlencoded")

    # then
    signin = upstreams["auth"].received[-1]
    assert (signin.method, signin.target) == ("POST", "/sso/signin/")
    assert signin.header("X-Gateway-Token") and signin.body == b"email=a%40example.com&password=x"
    assert upstreams["contact"].received[0].header("X-Gateway-Token") is None


def test_a_client_s_prefix_never_reaches_an_api_route(upstreams, bearer):
    Client().get("/api/customers", HTTP_AUTHORIZATION=bearer, HTTP_X_FORWARDED_PREFIX="/admin/contact")
    assert upstreams["contact"].received[0].header("X-Forwarded-Prefix") is None


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/admin", 302, "/admin/"),
        ("/admin/contact", 302, "/admin/contact/"),
        ("/admin/billing/", 404, None),
        ("/admin/contact/../auth/", 404, None),
        ("/admin/Contact/", 404, None),
    ],
)
def test_what_is_not_an_admin(upstreams, path, status, location):
    response = Client().get(path)
    assert response.status_code == status
    assert response.get("Location") == location
    assert not any(fake.received for fake in upstreams.values())


def test_the_index_says_who_is_signed_in_and_links_every_admin(upstreams):
    # when
    response = Client().get("/admin/", HTTP_COOKIE=COOKIES)

    # then: auth_svc was asked with the single sign-on cookie alone
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "Signed in as <strong>ivy@example.com</strong> (inventory manager)" in page
    for service in ADMINS:
        assert f'href="/admin/{service}/"' in page
    assert 'href="/admin/auth/sso/signout/"' in page
    [asked] = upstreams["auth"].received
    assert (asked.target, asked.header("Cookie")) == ("/sso/session", "auth_admin_session=good")


@pytest.mark.parametrize("cookies", [None, "auth_admin_session=stale", "contact_admin_session=c1"])
def test_the_index_without_a_single_sign_on_session_offers_the_sign_in(upstreams, cookies):
    # when
    response = Client().get("/admin/", **({"HTTP_COOKIE": cookies} if cookies else {}))

    # then
    assert response.status_code == 200
    assert 'Not signed in · <a href="/admin/auth/login/?next=/admin/">Sign in</a>' in response.content.decode()


def test_the_index_lists_the_admins_while_auth_svc_is_away(upstreams, settings):
    # given
    settings.GATEWAY = {**settings.GATEWAY, "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "auth": closed_port_url()}}

    # when
    response = Client().get("/admin/", HTTP_COOKIE=COOKIES)

    # then
    assert response.status_code == 200 and b'href="/admin/inventory/"' in response.content
    assert b"Not signed in" in response.content


def test_the_index_takes_no_post(upstreams):
    assert Client().post("/admin/").status_code == 405


@pytest.mark.parametrize("path", ["/admin/", "/admin/inventory/inventory/item/?q=x"])
def test_a_page_asked_for_under_another_host_is_sent_to_the_public_one(upstreams, settings, path):
    # given: the sign-in redirects are registered for localhost:8000
    settings.GATEWAY = {**settings.GATEWAY, "PUBLIC_URL": "http://localhost:8000"}

    # when
    elsewhere = Client().get(path, HTTP_HOST="127.0.0.1:8000")
    posted = Client().post("/admin/inventory/x/", HTTP_HOST="127.0.0.1:8000")
    public = Client().get(path, HTTP_HOST="localhost:8000")

    # then: GETs move, a POST is not turned into a GET, the public host is served
    assert elsewhere.status_code == 302 and elsewhere["Location"] == f"http://localhost:8000{path}"
    assert posted.status_code == 200
    assert public.status_code == 200


# Issue 26: a cookie Python's cookie parser refuses was a 500 (and, on the sign-in page, locked that browser out).
HOSTILE_COOKIES = [
    "contact_admin_x(y=1",
    "contact_admin_a b=1",
    'contact_admin_q"=1',
    "contact_admin_s=\u20ac",
    "contact_admin_c=a\\",
    "contact_admin_session=c1; contact_admin_=2; contact_admin_[=3",
    "auth_admin_x,y=1; auth_admin_session=good",
    "sales_admin_@=1",
    "purchase_admin_x/y=1",
    "inventory_admin_x?y==",
    "=contact_admin_x",
    "contact_admin_x=\x7f\x01",
]


def _fuzzed_cookies(seed: int, count: int) -> list[str]:
    """Cookie headers of random names and values for every admin: printable ASCII, controls and non-ASCII."""
    rng = random.Random(seed)
    alphabet = [chr(code) for code in range(0x20, 0x7F)] + ["\t", "\x00", "\x7f", "é", "\u20ac", "\ud7ff"]
    headers = []
    for _ in range(count):
        pairs = []
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(ADMINS) + "_admin_" + "".join(rng.choices(alphabet, k=rng.randint(0, 6)))
            value = "".join(rng.choices(alphabet, k=rng.randint(0, 8)))
            pairs.append(f"{name}={value}")
        headers.append("; ".join(pairs))
    return headers


def _on_the_wire(header: str) -> str:
    """The header as a WSGI server hands it over: its UTF-8 bytes read as Latin-1 (PEP 3333)."""
    return header.encode().decode("latin-1")


@pytest.mark.parametrize("service", ADMINS)
def test_no_cookie_makes_an_admin_route_fail(upstreams, settings, service):
    # given: the known parser-breakers and a seeded fuzz of names and values, from one address (no limit)
    settings.GATEWAY = {**settings.GATEWAY, "RATE_LIMITS": {**settings.GATEWAY["RATE_LIMITS"], "ANONYMOUS_RATE": 0}}
    ratelimit.reset()
    cookies = HOSTILE_COOKIES + _fuzzed_cookies(seed=26, count=60)
    paths = [f"/admin/{service}/", f"/admin/{service}/sso/signin/", "/admin/"]

    # when
    statuses = {
        (path, cookie): Client().get(path, HTTP_COOKIE=_on_the_wire(cookie)).status_code
        for path in paths
        for cookie in cookies
    }

    # then: the admins and the index answer (the fakes' 200); an unparsable cookie is left out, never a 500
    assert {key: status for key, status in statuses.items() if status != 200} == {}


def test_an_unparsable_cookie_is_dropped_and_the_admin_s_good_ones_still_pass(upstreams):
    # when
    response = Client().get("/admin/contact/", HTTP_COOKIE="contact_admin_x(y=1; contact_admin_session=c1")

    # then
    assert response.status_code == 200
    assert upstreams["contact"].received[0].header("Cookie") == "contact_admin_session=c1"
