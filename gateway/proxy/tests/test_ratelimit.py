"""Rate limits: per anonymous address and per signed-in user, refills, what is never limited, bounded memory."""

import logging
import uuid

import pytest
from django.test import Client

from erp_testkit import issue_token
from proxy import ratelimit
from proxy.ratelimit import RefusalLog, TokenBuckets


class FakeClock:
    """A monotonic clock the test moves by hand: refills without sleeping."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(settings):
    fake = FakeClock()
    ratelimit.reset(clock=fake)
    return fake


@pytest.fixture
def limits(settings):
    """Set the limits (user rate, user burst, anonymous rate, anonymous burst) and start with full buckets."""

    def apply(user=(300.0, 600), anonymous=(30.0, 60), clock=None):
        settings.GATEWAY = {
            **settings.GATEWAY,
            "RATE_LIMITS": {
                **settings.GATEWAY["RATE_LIMITS"],
                "USER_RATE": user[0],
                "USER_BURST": user[1],
                "ANONYMOUS_RATE": anonymous[0],
                "ANONYMOUS_BURST": anonymous[1],
            },
        }
        return ratelimit.reset(clock=clock)

    return apply


def _get(path: str, *, address: str = "203.0.113.7", **headers):
    return Client(REMOTE_ADDR=address).get(path, **headers)


def test_the_defaults_are_the_documented_ones(settings):
    assert settings.GATEWAY["RATE_LIMITS"] == {
        "USER_RATE": 300.0,
        "USER_BURST": 600,
        "ANONYMOUS_RATE": 30.0,
        "ANONYMOUS_BURST": 60,
        "MAX_BUCKETS": 100_000,
    }


def test_an_anonymous_flood_is_refused_after_its_burst_while_others_are_served(upstreams, clock):
    # given: the default limits (30/s, burst 60 per address) and a clock that does not move

    # when: one address sends 200 anonymous requests as fast as it can
    statuses = [_get("/api/auth/login").status_code for _ in range(200)]

    # then: its burst is served, the rest refused; the upstream saw only the burst
    assert statuses == [200] * 60 + [429] * 140
    assert len(upstreams["auth"].received) == 60
    refused = _get("/api/auth/login")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert refused.json() == {
        "status": 429,
        "error": {
            "type": "rate_limited",
            "message": "Too many requests; try again later. Expected available in 1 second.",
            "details": None,
        },
    }
    # and another address, and a signed-in user from the same address, are served normally
    assert _get("/api/auth/login", address="203.0.113.8").status_code == 200
    bearer = f"Bearer {issue_token(role='inventory_manager', user_id=str(uuid.uuid4()))}"
    assert _get("/api/items", HTTP_AUTHORIZATION=bearer).status_code == 200


def test_the_buckets_refill_at_their_rate(upstreams, clock):
    # given: an address that spent its burst
    for _ in range(60):
        assert _get("/api/auth/login").status_code == 200
    assert _get("/api/auth/login").status_code == 429

    # when: a tenth of a second passes (3 tokens at 30/s)
    clock.now += 0.1 + 1e-9

    # then: three more requests are served, the fourth refused
    assert [_get("/api/auth/login").status_code for _ in range(4)] == [200, 200, 200, 429]

    # when: two seconds pass (the whole burst back)
    clock.now += 2.0

    # then
    assert [_get("/api/auth/login").status_code for _ in range(61)] == [200] * 60 + [429]


def test_a_signed_in_user_has_one_bucket_whatever_the_address_and_token(upstreams, limits):
    # given: 5/s, burst 3 per user
    clock = FakeClock()
    limits(user=(5.0, 3), clock=clock)
    user = str(uuid.uuid4())
    first = f"Bearer {issue_token(role='admin', user_id=user)}"
    second = f"Bearer {issue_token(role='admin', user_id=user, lifetime=600)}"

    # when: the same user from three addresses, with two tokens
    statuses = [
        _get("/api/customers", address="198.51.100.1", HTTP_AUTHORIZATION=first).status_code,
        _get("/api/customers", address="198.51.100.2", HTTP_AUTHORIZATION=second).status_code,
        _get("/api/customers", address="198.51.100.3", HTTP_AUTHORIZATION=first).status_code,
        _get("/api/customers", address="198.51.100.4", HTTP_AUTHORIZATION=second).status_code,
    ]
    other_user = _get("/api/customers", HTTP_AUTHORIZATION=f"Bearer {issue_token(role='admin')}")

    # then: the fourth is refused (a token costs 0.2 s at 5/s), another user is not
    assert statuses == [200, 200, 200, 429]
    assert other_user.status_code == 200
    clock.now += 0.2
    assert _get("/api/customers", HTTP_AUTHORIZATION=first).status_code == 200


def test_retry_after_rounds_the_wait_up(upstreams, limits):
    # given: one request a minute
    limits(anonymous=(1 / 60, 1), clock=FakeClock())
    assert _get("/api/auth/login").status_code == 200

    # when
    refused = _get("/api/auth/login")

    # then
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"


def test_garbage_tokens_count_as_anonymous_and_never_fail(upstreams, limits):
    # given: burst 3 per address
    limits(anonymous=(1.0, 3), clock=FakeClock())
    hostile = ["Bearer", "Bearer \x00\x01", "Bearer a.b.c", "Basic Zm9vOmJhcg==", "Bearer " + "A" * 10_000, "x y z"]

    # when
    statuses = [_get("/api/items", HTTP_AUTHORIZATION=value).status_code for value in hostile]

    # then: 401 for the three the bucket held, 429 after: never a 500, and nothing reached the upstream
    assert statuses == [401, 401, 401, 429, 429, 429]
    assert upstreams["inventory"].received == []


@pytest.mark.parametrize(
    "path", ["/health/live", "/health/ready", "/api/schema/", "/api/docs/", "/admin/contact/static/admin/css/base.css"]
)
def test_health_docs_and_the_admins_static_files_are_not_limited(upstreams, limits, path):
    # given: one request per address, then nothing for a long time
    limits(anonymous=(0.001, 1), clock=FakeClock())
    assert _get("/api/auth/login").status_code == 200
    assert _get("/api/auth/login").status_code == 429

    # when / then
    assert all(_get(path).status_code != 429 for _ in range(5))


def test_only_reads_of_the_admins_static_files_escape_the_limit(upstreams, limits):
    # given: burst 1, spent
    limits(anonymous=(0.001, 1), clock=FakeClock())
    assert _get("/api/auth/login").status_code == 200

    # when: anything but a read under the static prefix
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [client.post("/admin/contact/static/x", data=b"x" * 1000, content_type="text/plain").status_code]
    statuses += [client.generic(method, "/admin/contact/static/x").status_code for method in ("PUT", "DELETE")]

    # then: refused like any page, and nothing reached the upstream
    assert statuses == [429, 429, 429]
    assert upstreams["contact"].received == []


def test_reads_under_the_static_prefix_that_find_no_file_are_limited(upstreams, limits):
    # given: burst 3 per address, nothing refilled
    limits(anonymous=(0.001, 3), clock=FakeClock())

    # when: one address reads ten paths under an admin's static prefix that are no file
    statuses = [_get("/admin/contact/static/../api-like/missing").status_code]
    statuses += [_get(f"/admin/contact/static/x{n}/missing").status_code for n in range(10)]

    # then: the dot segment is a 404 of the gateway's own, the admin answers three misses, the rest are refused
    assert statuses == [404] + [404] * 3 + [429] * 7
    assert [r.target for r in upstreams["contact"].received] == [f"/static/x{n}/missing" for n in range(3)]
    # and once out of misses, even its files wait, while another address reads them
    assert _get("/admin/contact/static/admin/css/base.css").status_code == 429
    assert _get("/admin/contact/static/admin/css/base.css", address="203.0.113.8").status_code == 200


def test_the_admins_static_files_never_use_up_a_clients_limit(upstreams, limits):
    # given: burst 3 per address, nothing refilled
    limits(anonymous=(0.001, 3), clock=FakeClock())

    # when: a browser loads fifty of an admin's static files (GET and HEAD)
    files = [_get(f"/admin/inventory/static/admin/img/icon{n}.svg").status_code for n in range(25)]
    browser = Client(REMOTE_ADDR="203.0.113.7")
    files += [browser.head(f"/admin/inventory/static/x{n}.css").status_code for n in range(25)]

    # then: all served, and its three pages are still there
    assert files == [200] * 50
    assert [_get("/admin/inventory/login/").status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api/customers",
        "/static/drf_spectacular_sidecar/../../api/customers",
        "/static/drf_spectacular_sidecar/%2e%2e/%2e%2e/api/customers",
        "/health/../api/customers",
        "/api/docs/../customers",
        "/api/schema/%2e%2e/customers",
        "/admin/contact/static/../customers",
        "/admin/contact/static/%2e%2e/customers",
        "/admin/contact/static%2f..%2fcustomers",
        "/admin/contact/static/..%2fcustomers",
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_no_unlimited_path_reaches_an_api(upstreams, limits, path, method):
    # given: burst 1 per address, spent
    limits(anonymous=(0.001, 1), clock=FakeClock())
    assert _get("/api/auth/login").status_code == 200
    upstreams["auth"].received.clear()

    # when: an API path dressed as health, docs or static files, read with any method
    status = Client(REMOTE_ADDR="203.0.113.7").generic(method, path).status_code

    # then: refused by the gateway itself, and nothing reached any service
    assert status in (400, 404, 405)
    assert all(fake.received == [] for fake in upstreams.values())


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "DELETE", "PATCH"])
def test_every_method_on_an_api_path_takes_a_token(upstreams, limits, method):
    # given: burst 2 per address
    limits(anonymous=(0.001, 2), clock=FakeClock())

    # when
    statuses = [Client(REMOTE_ADDR="203.0.113.7").generic(method, "/api/auth/login").status_code for _ in range(3)]

    # then
    assert statuses[2] == 429
    assert len(upstreams["auth"].received) == 2


def test_the_back_office_pages_are_limited_by_address(upstreams, limits):
    # given
    limits(anonymous=(0.001, 2), clock=FakeClock())

    # when
    statuses = [_get("/admin/contact/login/").status_code for _ in range(3)] + [_get("/admin/").status_code]

    # then
    assert statuses == [200, 200, 429, 429]


def test_a_rate_of_zero_turns_a_limit_off(upstreams, limits):
    # given
    limits(anonymous=(0.0, 1), clock=FakeClock())

    # when / then
    assert all(_get("/api/auth/login").status_code == 200 for _ in range(100))


def test_behind_a_tls_proxy_the_forwarded_client_is_limited_not_the_proxy(upstreams, limits, settings):
    # given: the gateway behind a TLS proxy (one peer address for everyone), burst 2 per client
    limits(anonymous=(0.001, 2), clock=FakeClock())
    settings.GATEWAY = {**settings.GATEWAY, "BEHIND_TLS_PROXY": True}

    def via_proxy(client: str) -> int:
        return _get("/api/auth/login", address="10.0.0.2", HTTP_X_FORWARDED_FOR=client).status_code

    # when / then: each client has its own bucket
    assert [via_proxy("198.51.100.9") for _ in range(3)] == [200, 200, 429]
    assert via_proxy("198.51.100.10") == 200
    # and a last entry that is no address is the proxy's own bucket, never a 500
    assert [via_proxy(value) for value in ("not-an-ip", "1.2.3.4, \x00", "")] == [200, 200, 429]


def test_refusals_are_logged_once_per_client_per_minute(upstreams, limits, caplog):
    # given: burst 1
    clock = FakeClock()
    limits(anonymous=(0.001, 1), clock=clock)
    caplog.set_level(logging.WARNING, logger="proxy.ratelimit")

    # when: ten refusals from one address, one from another, then one more a minute later
    for _ in range(11):
        _get("/api/auth/login")
    _get("/api/auth/login", address="203.0.113.99")
    _get("/api/auth/login", address="203.0.113.99")
    clock.now += 60
    _get("/api/auth/login")

    # then
    logged = [record.getMessage() for record in caplog.records if record.name == "proxy.ratelimit"]
    assert logged == [
        "rate limited address:203.0.113.7 (0.001 requests/s, burst 1)",
        "rate limited address:203.0.113.99 (0.001 requests/s, burst 1)",
        "rate limited address:203.0.113.7 (0.001 requests/s, burst 1)",
    ]


def test_idle_buckets_are_forgotten_once_full_again():
    # given: 10/s, burst 20: a bucket untouched for 2 s is full
    clock = FakeClock()
    buckets = TokenBuckets(10.0, 20, clock=clock)
    for n in range(1000):
        buckets.take(f"address:{n}")
    assert len(buckets) == 1000

    # when: 2 s later, one more client
    clock.now += 2.0
    buckets.take("address:new")

    # then: only the bucket in use remains
    assert len(buckets) == 1


def test_the_number_of_buckets_is_capped():
    # given
    buckets = TokenBuckets(1.0, 5, max_buckets=100, clock=FakeClock())

    # when: a flood from many addresses at one instant
    for n in range(10_000):
        buckets.take(f"address:{n}")

    # then
    assert len(buckets) == 100


def test_the_refusal_log_is_bounded():
    # given
    log = RefusalLog(max_clients=10, clock=FakeClock())

    # when
    logged = [log.should_log(f"address:{n}") for n in range(50)]

    # then: every new client is logged, and at most 10 are remembered
    assert all(logged)
    assert len(log._logged_at) == 10


def test_an_ipv6_client_has_one_bucket_for_its_whole_slash_64(upstreams, limits):
    # given: burst 2 per client; an IPv6 host may use any address of its /64
    limits(anonymous=(0.001, 2), clock=FakeClock())

    # when: a fresh address of the same /64 for every request
    statuses = [_get("/api/auth/login", address=f"2001:db8:1:2::{n:x}").status_code for n in range(1, 5)]

    # then: one bucket for them all, while another /64 is served
    assert statuses == [200, 200, 429, 429]
    assert _get("/api/auth/login", address="2001:db8:1:3::1").status_code == 200


def test_an_ipv4_client_seen_through_a_dual_stack_socket_keeps_its_bucket(upstreams, limits):
    # given: burst 1
    limits(anonymous=(0.001, 1), clock=FakeClock())

    # when
    statuses = [
        _get("/api/auth/login", address=address).status_code for address in ("203.0.113.8", "::ffff:203.0.113.8")
    ]

    # then
    assert statuses == [200, 429]
