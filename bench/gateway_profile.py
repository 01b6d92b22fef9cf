"""Per-request CPU cost of the gateway, without gunicorn or a load generator in the way.

Starts a constant upstream in a separate process (so its CPU is not counted), then calls
the gateway's WSGI application in a loop with an authenticated GET /api/customers?limit=10
and prints CPU microseconds per request; ``--profile`` adds the top cProfile entries.
``--limits-and-metrics`` instead times, in tight loops, only what the rate limits and the gateway's
own metrics add to a request (prometheus_client in multiprocess mode, as under gunicorn), against
the services' request counter they replaced: a figure the machine's noise does not swamp.
Usage: .venv/bin/python bench/gateway_profile.py [--requests 5000] [--profile] [--limits-and-metrics]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import math
import multiprocessing
import os
import pstats
import socket
import sys
import tempfile
import time
import timeit
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BODY = b'{"status": 200, "message": "OK", "data": []}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\nServer: const\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n"
    + BODY
)


def _serve(sock: socket.socket) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):  # GETs only: no body to read
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=sock)
        await server.serve_forever()

    asyncio.run(main())


def environ(token: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/customers",
        "QUERY_STRING": "limit=10",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_USER_AGENT": "wrk",
        "HTTP_ACCEPT": "*/*",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def limits_and_metrics_cost(number: int = 20_000, repeat: int = 7) -> None:
    """Print the CPU per request of each part issue 30 added, and of the counter it replaced (best of ``repeat``)."""
    from django.http import HttpResponse
    from django.test import RequestFactory
    from proxy import metrics, ratelimit

    from common.metrics import MetricsMiddleware

    request = RequestFactory().get("/api/customers", REMOTE_ADDR="127.0.0.1")
    request.upstream_service = "contact"
    claims = {"user_id": "bench-user", "type": "user"}
    limiter = ratelimit.limiter()
    answer = HttpResponse(b"{}")
    added = {
        "rate limiter (ratelimit.Limiter.check)": lambda: limiter.check(request, claims),
        "metrics middleware (proxy.metrics)": partial(metrics.GatewayMetricsMiddleware(lambda _: answer), request),
        "token cache counter (proxy.tokens)": lambda: metrics.TOKEN_CACHE.labels("hit").inc(),
    }
    replaced = {"the counter they replaced (common.metrics)": partial(MetricsMiddleware(lambda _: answer), request)}
    costs = {}
    for name, part in {**added, **replaced}.items():
        costs[name] = min(timeit.repeat(part, number=number, repeat=repeat, timer=time.process_time)) / number * 1e6
        print(f"{name:<45} {costs[name]:6.2f} us CPU/request")
    net = sum(costs[name] for name in added) - sum(costs[name] for name in replaced)
    print(f"{'added per request, net':<45} {net:6.2f} us CPU/request")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries (cumulative)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--middleware", help="comma-separated MIDDLEWARE to use instead of the settings' list")
    parser.add_argument(
        "--limits-and-metrics", action="store_true", help="time only the rate limiter's check and the metrics"
    )
    args = parser.parse_args()
    if args.limits_and_metrics:  # before prometheus_client is imported: it reads this once
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="erp-gateway-profile-metrics-")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    upstream = multiprocessing.Process(target=_serve, args=(sock,), daemon=True)
    upstream.start()
    port = sock.getsockname()[1]

    os.environ.setdefault("ERP_DATA_DIR", tempfile.mkdtemp(prefix="erp-gateway-profile-"))
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["CONTACT_SERVICE_URL"] = f"http://127.0.0.1:{port}"
    # One token as fast as one thread goes is above a user's rate limit (proxy.ratelimit): the limiter
    # still takes a token per request, so its cost is measured, but refuses none unless asked.
    os.environ.setdefault("GATEWAY_RATE_LIMIT_USER_RATE", "1000000")
    os.environ.setdefault("GATEWAY_RATE_LIMIT_USER_BURST", "1000000")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT / "gateway"))
    from common.keys import ensure_keypair

    private_path, public_path = ensure_keypair()  # in the data dir above
    os.environ["JWT_PUBLIC_KEY_FILE"] = str(public_path)
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    django.setup(set_prefix=False)
    if args.middleware is not None:
        settings.MIDDLEWARE = [name for name in args.middleware.split(",") if name]
    if args.limits_and_metrics:
        limits_and_metrics_cost()
        upstream.terminate()
        return 0
    print("middleware:", ", ".join(name.rsplit(".", 1)[-1] for name in settings.MIDDLEWARE))
    application = WSGIHandler()
    from common import withdrawals
    from erp_testkit import issue_token

    # No auth_svc here: a map of withdrawn access that is known and empty (the lookup per request still runs).
    # Never stale: it is not polled.
    known_and_empty = withdrawals.AccessWithdrawals(
        lambda *, since: withdrawals.Window([], None),
        poll_seconds=3600,
        max_age_seconds=math.inf,
        backoff_max_seconds=3600,
    )
    known_and_empty.sync()
    withdrawals.install(known_and_empty)

    token = issue_token(role="admin", lifetime=3600, private_key=private_path.read_text())

    def call() -> None:
        status = []
        body = b"".join(application(environ(token), lambda s, h, e=None: status.append(s)))
        assert status[0].startswith("200"), (status, body)

    try:
        for _ in range(200):  # warm-up: pool connections, caches, imports
            call()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            call()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{args.requests} requests: {cpu / args.requests * 1e6:.0f} us CPU/request, "
            f"{wall / args.requests * 1e6:.0f} us wall/request (one thread, upstream in another process)"
        )
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the upstream
            profiler.enable()
            for _ in range(args.requests):
                call()
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
    finally:
        upstream.terminate()
        upstream.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
