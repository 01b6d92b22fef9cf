"""forgot-password must not tell, by its timing, whether an account exists (issue 7, item 5).

Starts auth_svc under gunicorn (DJANGO_DEBUG off, as deployed) in a temporary data dir,
with one registered user and the reset-mail worker running beside it, as in the local run,
then sends interleaved forgot-password requests for the registered email and for an unknown
one, each asked again and again as a prober would (so the throttle's counters are warm for
both; the order inside each pair is random), and reports the medians and the share of
samples the best single threshold would tell apart.
With ``--broker-url amqp://...`` the services' broker is RabbitMQ reached through a TCP proxy
of this script's (erp_testkit.faults), and ``--broker-fault`` breaks it once the warm-up is
done: ``refused`` (nothing listens), ``frozen`` (connections open, nothing answers: a broker
host gone from the network). The request must answer as fast for either email, and soon: the
mail job is lost and the sweep sends it (docs/jobs.md).
Usage: .venv/bin/python bench/forgot_password_timing.py [--samples 50 --database-url postgres://...]
       [--broker-url amqp://guest:guest@127.0.0.1:5672/h4 --broker-fault refused|frozen]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gateway_bench as gb

from common.keys import ensure_keypair
from erp_testkit.faults import TcpProxy

AUTH_DIR = gb.ROOT / "auth_svc"
KNOWN_EMAIL = "known.user@example.com"
UNKNOWN_EMAIL = "no.such.user@example.com"


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([gb.PYTHON, "manage.py", *args], cwd=AUTH_DIR, env=env, check=True, capture_output=True)


def ask(connection: http.client.HTTPConnection, email: str) -> float:
    """Send one forgot-password request on a kept-alive connection; return milliseconds to the full answer."""
    body = json.dumps({"email": email})
    started = time.perf_counter()
    connection.request("POST", "/forgot-password", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"forgot-password answered {response.status}")
    return elapsed


def best_threshold_accuracy(known: list[float], unknown: list[float]) -> float:
    """The share of samples the best single threshold classifies right (0.5: no better than a coin)."""
    samples = sorted([(value, 1) for value in known] + [(value, 0) for value in unknown])
    best = 0.5
    for index in range(len(samples) + 1):
        below, above = samples[:index], samples[index:]
        # "known is slower" and "known is faster", whichever the data favour.
        right = sum(1 for _, is_known in below if not is_known) + sum(1 for _, is_known in above if is_known)
        best = max(best, right / len(samples), 1 - right / len(samples))
    return best


def chance_accuracy(known: list[float], unknown: list[float], rounds: int = 200) -> float:
    """The best-threshold accuracy when the labels mean nothing (shuffled): its bias at this sample size."""
    pooled = known + unknown
    shuffled = random.Random(7)
    results = []
    for _ in range(rounds):
        shuffled.shuffle(pooled)
        results.append(best_threshold_accuracy(pooled[: len(known)], pooled[len(known) :]))
    return statistics.median(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50, help="pairs of (known, unknown) requests")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between requests (the worker's turn)")
    parser.add_argument("--database-url", help="PostgreSQL database for auth_svc (default: SQLite in the temp dir)")
    parser.add_argument("--broker-url", help="RabbitMQ, reached through a proxy (default: the filesystem transport)")
    parser.add_argument("--broker-fault", choices=["none", "refused", "frozen"], default="none")
    args = parser.parse_args()
    proxy = TcpProxy() if args.broker_url else None
    tmp = Path(tempfile.mkdtemp(prefix="erp-forgot-timing-"))
    stack = gb.Stack(tmp)
    try:
        data = tmp / "data"
        env = gb.base_env(data)
        private_key, _ = ensure_keypair(data / "keys")
        env = {
            **gb.production_env(env, data, database="auth"),
            "JWT_PRIVATE_KEY_FILE": str(private_key),
            "AUTH_RESET_MAX_REQUESTS": "1000000",  # the throttle is not what is measured
        }
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        if proxy is not None:
            env["BROKER_URL"] = proxy.url(args.broker_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(
            env,
            "shell",
            "-c",
            f"from accounts.models import User; User.objects.filter(email='{KNOWN_EMAIL}').exists() or "
            f"User.objects.create_user('{KNOWN_EMAIL}', 'Known-User-Pass-2026')",
        )
        port = gb.free_port()
        stack.start(
            "auth",
            [gb.PYTHON, "-m", "gunicorn", "config.wsgi", "--config", gb.GUNICORN_CONF, "--bind", f"127.0.0.1:{port}"],
            AUTH_DIR,
            env,
        )
        # The mail jobs' worker, as the local run's (deploy/Procfile ``jobs``, without its beat).
        worker = ["worker", "--without-gossip", "--without-mingle"]
        stack.start("worker", [gb.PYTHON, "manage.py", "celery", *worker], AUTH_DIR, env)
        gb.wait_http(f"http://127.0.0.1:{port}/health/live", {})
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(args.warmup):
            ask(connection, KNOWN_EMAIL)
            ask(connection, UNKNOWN_EMAIL)
        if args.broker_fault == "refused":
            proxy.cut()
        elif args.broker_fault == "frozen":
            proxy.reset()  # the pooled connections break, and new ones open but are never answered
            proxy.blackhole(new="freeze")
        known: list[float] = []
        unknown: list[float] = []
        for _ in range(args.samples):
            pair = [("known", KNOWN_EMAIL), ("unknown", UNKNOWN_EMAIL)]
            random.shuffle(pair)
            for kind, email in pair:
                time.sleep(args.pause)
                (known if kind == "known" else unknown).append(ask(connection, email))
        mails = len(list((data / "mail").glob("*.log"))) if (data / "mail").exists() else 0
        database = "PostgreSQL" if args.database_url else "SQLite"
        broker = f"RabbitMQ, fault: {args.broker_fault}" if proxy is not None else "filesystem broker"
        print(f"forgot-password, auth_svc under gunicorn ({database}, {broker}), reset-mail worker running")
        print(f"  {args.samples} interleaved samples each, after {args.warmup} warm-up pairs")
        print(f"  registered email: median {statistics.median(known):6.2f} ms   p90 {_p90(known):6.2f} ms")
        print(f"  unknown email:    median {statistics.median(unknown):6.2f} ms   p90 {_p90(unknown):6.2f} ms")
        print(f"  best single threshold tells them apart {best_threshold_accuracy(known, unknown):.0%} of the time")
        print(f"  (the same for labels shuffled at random, i.e. chance: {chance_accuracy(known, unknown):.0%})")
        print(f"  slowest answer: {max(known + unknown):6.2f} ms; mails the worker wrote: {mails}")
        return 0
    finally:
        stack.stop_all()
        if proxy is not None:
            proxy.close()


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


if __name__ == "__main__":
    sys.exit(main())
