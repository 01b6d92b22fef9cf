"""CPU per service-to-service call: common.http (urllib3's pool) against a requests session, as before.

A constant upstream in another process (its CPU not counted) answers every request with a small
success envelope, keeping connections alive; the calling thread's CPU (``time.thread_time``) is
measured per call, GET with a service token and a request id, the answer's JSON read, the two
ways alternated round by round:

- ``common.http``: ``common.http._call``, what ``ServiceClient`` sends every call through now;
- ``requests``: a ``requests.Session`` set up as common.http's was (pooled adapter, no retries,
  no environment, redirects not followed).

Usage: .venv/bin/python bench/service_calls.py [--calls 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BODY = b'{"status": 200, "message": "OK", "data": {"id": "5b0c", "name": "Acme Retail", "active": true}}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
HEADERS = {"Authorization": "Bearer " + "x" * 600}  # about a service token's size


def _serve(sock: socket.socket) -> None:
    while True:
        connection, _ = sock.accept()
        threading.Thread(target=_answer_all, args=(connection,), daemon=True).start()


def _answer_all(connection: socket.socket) -> None:
    pending = b""
    while chunk := connection.recv(65536):
        pending += chunk
        while b"\r\n\r\n" in pending:  # GETs only: no body to skip
            _, pending = pending.split(b"\r\n\r\n", 1)
            connection.sendall(ANSWER)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "common"))
    from django.conf import settings

    settings.configure()
    import requests
    from requests.adapters import HTTPAdapter

    from common import http

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    upstream = multiprocessing.Process(target=_serve, args=(sock,), daemon=True)
    upstream.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/customers/5b0c"

    session = requests.Session()
    session.trust_env = False
    session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=20, max_retries=0))

    def through_requests() -> None:
        session.request("GET", url, headers=HEADERS, timeout=5.0, allow_redirects=False).json()["data"]

    def through_common_http() -> None:
        http._call("GET", url, headers=HEADERS, timeout=5.0).json()["data"]

    ways = {"common.http": through_common_http, "requests": through_requests}
    figures: dict[str, list[float]] = {name: [] for name in ways}
    for _round in range(args.rounds):
        for name, call in ways.items():
            for _warm_up in range(200):
                call()
            started = time.thread_time()
            for _call in range(args.calls):
                call()
            figures[name].append((time.thread_time() - started) / args.calls * 1e6)
    upstream.terminate()
    print(f"CPU per call of the calling thread, {args.calls} calls x {args.rounds} rounds:")
    for name, each in figures.items():
        rounds = " / ".join(f"{value:.0f}" for value in each)
        print(f"  {name:12} {statistics.median(each):6.0f} us   ({rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
