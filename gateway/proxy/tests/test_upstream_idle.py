"""A kept-alive upstream connection is reused while fresh and retired once it has idled.

A real HTTP/1.1 server on loopback that closes a connection after its own keep-alive,
as gunicorn does: each answer names the client port it came in on, so the test sees
whether the gateway's pool reused its TCP connection or opened a new one.
"""

from __future__ import annotations

import json
import time

import pytest
import urllib3
import urllib3.connection
from urllib3.util import Timeout

from erp_testkit.fake_services import KeepAliveHandler, keep_alive_upstream
from proxy.proxy import Upstream

# seconds the server keeps an idle connection, like gunicorn's keepalive
SERVER_KEEPALIVE = KeepAliveHandler.timeout


@pytest.fixture
def server():
    with keep_alive_upstream() as url:
        yield url


def _post(upstream: Upstream) -> tuple[int, int]:
    answer = upstream.request("POST", "/orders", body=b"{}", headers={}, timeout=Timeout(connect=2, read=5))
    return answer.status, json.loads(answer.data)["data"]["port"]


def test_a_fresh_connection_is_reused(server):
    # given
    upstream = Upstream(server, pool_size=4, idle_seconds=SERVER_KEEPALIVE / 2)
    _, first_port = _post(upstream)
    # when: the next request comes at once
    status, second_port = _post(upstream)
    # then: the same TCP connection carried it
    assert (status, second_port) == (200, first_port)


def test_a_connection_idle_past_the_limit_is_retired_and_the_post_still_gets_through(server):
    # given: a connection that idled until just before the server closes it
    upstream = Upstream(server, pool_size=4, idle_seconds=SERVER_KEEPALIVE / 2)
    _, first_port = _post(upstream)
    time.sleep(SERVER_KEEPALIVE * 0.9)
    # when
    status, second_port = _post(upstream)
    # then: a new connection, not the one the server is about to close
    assert status == 200
    assert second_port != first_port


class _SaysDropped(urllib3.connection.HTTPConnection):
    dropped = False

    @property
    def is_connected(self) -> bool:
        return not self.dropped and super().is_connected


def test_urllib3_reuses_a_pooled_connection_only_if_it_says_it_is_connected(server):
    # The urllib3 behaviour common.upstream_pools.RetiredWhenIdle relies on (README: hand-written parts): the
    # pool asks a kept-alive connection's public ``is_connected`` before reusing it, and opens
    # a new one when it says no. If an upgrade stops asking, this fails before the 502s return.
    # given: a pool whose connections say they are dropped once told to
    url = urllib3.util.parse_url(server)
    pool = urllib3.HTTPConnectionPool(url.host, url.port, maxsize=1, retries=False)
    pool.ConnectionCls = _SaysDropped
    first = pool.urlopen("POST", "/orders", body=b"{}").data
    again = pool.urlopen("POST", "/orders", body=b"{}").data
    # when
    _SaysDropped.dropped = True
    try:
        after = pool.urlopen("POST", "/orders", body=b"{}").data
    finally:
        _SaysDropped.dropped = False
    # then: reused while connected, replaced once it said it was not
    assert again == first
    assert after != first
