"""Slow clients against the gateway: are normal reads still answered while 60 connections trickle headers?

Issue 7 item 2: connections that send one header line every 2 s and never finish their
request kept every gunicorn thread of the gateway busy, so normal requests timed out.
This starts (on loopback, in a temporary data dir, every process stopped at the end)
contact_svc and the gateway exactly as ``bench/gateway_bench.py`` does, opens
``--slow-clients`` connections that trickle one header line every ``--interval`` seconds,
and meanwhile sends normal authenticated reads (``GET /api/customers?limit=10``, a new
connection each, ``--probers`` at a time). It prints how many reads were answered, how
fast, and whether every one came back 200 within ``--deadline`` seconds (the issue's
"done when": 2 s).

``--target service`` aims the same attack at contact_svc directly (gunicorn gthread, as
every service runs): the services are not the edge (only the gateway is published; it
reads a request whole before forwarding it), and this shows what remains when a service
is reached around it. ``--gateway-worker-class gthread`` shows the gateway as it was.
Exit status 0 when every read at the gateway met the deadline.

Usage: bench/slow_clients.py [--slow-clients 60] [--duration 20] [--target gateway|service|both]
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import gateway_bench as gb

sys.path.insert(0, str(gb.ROOT / "scripts"))
from run import GATEWAY_SERVER_ENV  # scripts/ is not a package: on the path above

PROBE_PATH = "/customers?limit=10"


class SlowClients:
    """Connections that send a request line, then one header line per interval, and never finish it."""

    def __init__(self, host: str, port: int, path: str, count: int, interval: float):
        self.address = (host, port)
        self.path = path
        self.count = count
        self.interval = interval
        self.sockets: list[socket.socket | None] = [None] * count
        self.reconnects = 0
        self.lines_sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, index: int) -> None:
        sock = socket.create_connection(self.address, timeout=5)
        sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: {self.address[0]}\r\n".encode())
        self.sockets[index] = sock

    def start(self) -> None:
        for index in range(self.count):
            self._open(index)
        self._thread.start()

    def _run(self) -> None:
        line = 0
        while not self._stop.wait(self.interval):
            line += 1
            for index, sock in enumerate(self.sockets):
                try:
                    sock.sendall(f"X-Trickle-{line}: {'x' * 16}\r\n".encode())
                    self.lines_sent += 1
                except OSError:
                    # The server gave up on it: a real attacker reconnects, so does this one.
                    sock.close()
                    self.reconnects += 1
                    try:
                        self._open(index)
                    except OSError:
                        self.sockets[index] = None

    def open_count(self) -> int:
        return sum(sock is not None for sock in self.sockets)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 5)
        for sock in self.sockets:
            if sock is not None:
                sock.close()


def probe(host: str, port: int, path: str, token: str, duration: float, probers: int, timeout: float) -> list:
    """Send normal reads (a new connection each) for ``duration`` seconds; return (status, seconds) per read."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def prober() -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0  # refused, reset or timed out: not answered
            finally:
                connection.close()
            with lock:
                results.append((status, time.perf_counter() - started))
            time.sleep(0.05)

    threads = [threading.Thread(target=prober) for _ in range(probers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def attack(label: str, port: int, path: str, token: str, args: argparse.Namespace) -> bool:
    """Hold the slow clients open against one port while probing it; print the figures; True if all met the deadline."""
    slow = SlowClients("127.0.0.1", port, path, args.slow_clients, args.interval)
    slow.start()
    try:
        time.sleep(args.interval * 1.5)  # every slow client has been handed to a worker and is mid-request
        results = probe("127.0.0.1", port, path, token, args.duration, args.probers, args.probe_timeout)
        still_open = slow.open_count()
    finally:
        slow.stop()
    latencies = sorted(seconds for _, seconds in results)
    answered = [seconds for status, seconds in results if status == 200]
    within = [seconds for seconds in answered if seconds <= args.deadline]
    passed = bool(results) and len(within) == len(results)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    p50, p99, slowest = quantiles[49] * 1000, quantiles[98] * 1000, latencies[-1] * 1000
    print(
        f"  {label:<34} reads {len(results):>5}   200 {len(answered):>5}   within {args.deadline:g} s {len(within):>5}"
        f"   p50 {p50:>7.1f} ms   p99 {p99:>7.1f} ms   max {slowest:>7.1f} ms"
        f"   slow clients open {still_open}/{args.slow_clients} (reconnects {slow.reconnects})"
        f"   {'PASS' if passed else 'FAIL'}",
        flush=True,
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow-clients", type=int, default=60)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a slow client's header lines")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of probing under attack (max 120)")
    parser.add_argument("--probers", type=int, default=4, help="normal readers at a time")
    parser.add_argument("--deadline", type=float, default=2.0, help="seconds a normal read may take")
    parser.add_argument("--probe-timeout", type=float, default=10.0)
    parser.add_argument("--target", choices=("gateway", "service", "both"), default="gateway")
    parser.add_argument(
        "--gateway-worker-class",
        default=GATEWAY_SERVER_ENV["GUNICORN_WORKER_CLASS"],
        help="the gateway's gunicorn worker class (default: the local run's and compose's)",
    )
    args = parser.parse_args()
    args.duration = max(1.0, min(args.duration, 120.0))
    args.slow_clients = max(1, min(args.slow_clients, 500))

    tmp = Path(tempfile.mkdtemp(prefix="erp-slow-clients-"))
    stack = gb.Stack(tmp)
    data_dir = tmp / "data"
    env = gb.base_env(data_dir)
    # gthread as it was (8 threads); gevent with the settings' upstream pool (0: the default).
    setting = (args.gateway_worker_class, 2, 8 if args.gateway_worker_class == "gthread" else 0)
    print(
        f"{args.slow_clients} slow clients (a header line every {args.interval:g} s), {args.probers} normal readers "
        f"for {args.duration:g} s, deadline {args.deadline:g} s; gateway: gunicorn {gb.setting_label(setting)}; "
        f"logs in {tmp}",
        flush=True,
    )
    try:
        token = gb.mint_token(env)
        env = gb.production_env(env, data_dir)
        service_port, gateway_port = gb.free_port(), gb.free_port()
        gb.start_contact(stack, env, service_port, token)
        upstream = f"http://127.0.0.1:{service_port}"
        gb.start_gateway(stack, env, gateway_port, upstream, token, setting, PROBE_PATH)
        passed = True
        print("\n== normal reads while the slow clients trickle", flush=True)
        if args.target in ("gateway", "both"):
            passed = attack(f"gateway /api{PROBE_PATH}", gateway_port, f"/api{PROBE_PATH}", token, args)
        if args.target in ("service", "both"):
            attack(f"contact_svc direct {PROBE_PATH}", service_port, PROBE_PATH, token, args)
        return 0 if passed else 1
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
