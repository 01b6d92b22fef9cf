"""The upstream pool holds one connection per request a worker can have in flight.

A smaller pool discards a connection after every request above it (a new TCP connection per
request and a urllib3 warning line), which is what the gevent gateway did with the thread count's
pool of 8 (bench/gateway_bench.py --compare-workers).
"""

from config.settings import default_pool_size


def test_gevent_worker_pools_one_connection_per_greenlet(monkeypatch):
    # given: the gateway's server (scripts/run.py GATEWAY_SERVER_ENV) with a thread count set too
    monkeypatch.setenv("GUNICORN_WORKER_CLASS", "gevent")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    monkeypatch.setenv("GUNICORN_WORKER_CONNECTIONS", "250")

    # when / then: the pool follows the greenlets, not the unused thread count
    assert default_pool_size() == 250


def test_gevent_worker_default_follows_gunicorn_default_connections(monkeypatch):
    # given
    monkeypatch.setenv("GUNICORN_WORKER_CLASS", "gevent")
    monkeypatch.delenv("GUNICORN_WORKER_CONNECTIONS", raising=False)

    # when / then: gunicorn's worker_connections default (scripts/gunicorn.conf.py)
    assert default_pool_size() == 1000


def test_gthread_worker_pools_one_connection_per_thread(monkeypatch):
    # given
    monkeypatch.setenv("GUNICORN_WORKER_CLASS", "gthread")
    monkeypatch.setenv("GUNICORN_THREADS", "16")

    # when / then
    assert default_pool_size() == 16
