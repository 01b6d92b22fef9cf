"""Measure what the gateway costs: the same authenticated GET direct, through nginx, through the gateway.

Starts (all on loopback, in a temporary data dir, every process stopped at the end):
- auth_svc under gunicorn (SQLite, DEBUG off): every verifier (contact_svc, the gateway) polls its
  withdrawn access (common.withdrawals) and refuses user tokens until it has once, as deployed;
- contact_svc under gunicorn with the services' shared settings (scripts/gunicorn.conf.py), SQLite,
  DJANGO_DEBUG off (as deployed), seeded with the demo customers;
- nginx (its own config, pid and logs) with a keep-alive upstream pool in front of the same service,
  plus a constant-answer server: an upstream that costs nothing, so the proxies' own overhead shows;
- the gateway under gunicorn with the same shared config (scripts/gunicorn.conf.py) and the local run's gateway
  environment (scripts/run.py GATEWAY_SERVER_ENV: the gevent worker).
Then runs wrk (or, without it, a small Python load generator) with one valid token against each target,
interleaved (direct, nginx, gateway, direct, ...) for several rounds, and prints per run and as medians:
req/s, p50/p99 latency, the gateway's own CPU per request, and the ratios gateway/nginx, gateway/direct.
``--targets gateway`` measures the gateway alone (comparing two checkouts: docs/performance.md).

The headline is the issue's comparison: the real service (a list and a single-record GET). The constant
upstream is the secondary "proxy overhead" figure. ``--compare-workers`` also tries other gunicorn
settings for the gateway (restarting it for each, interleaved with nginx runs).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN_CONF = str(ROOT / "scripts" / "gunicorn.conf.py")
LIST_PATH = "/customers?limit=10"
sys.path.insert(0, str(ROOT / "scripts"))
from run import GATEWAY_SERVER_ENV  # noqa: E402 (scripts/ is not a package)

# The gateway's setting in the local run and compose: (worker class, workers, threads under gthread
# or the upstream pool size under gevent, 0 for the settings' default); env can override.
_DEFAULT_CLASS = os.environ.get("GUNICORN_WORKER_CLASS", GATEWAY_SERVER_ENV["GUNICORN_WORKER_CLASS"])
GATEWAY_DEFAULT = (
    _DEFAULT_CLASS,
    int(os.environ.get("GUNICORN_WORKERS", "2")),
    int(
        os.environ.get("GUNICORN_THREADS", "8")
        if _DEFAULT_CLASS == "gthread"
        else os.environ.get("GATEWAY_POOL_SIZE", "0")
    ),
)
WORKER_SETTINGS = [  # tried with --compare-workers; for gevent the third value is the upstream pool size
    ("gevent", 2, 8),  # the pool as it was: smaller than the concurrency, so connections are discarded
    ("gevent", 2, 0),  # 0: the settings' default (one pooled connection per greenlet, worker_connections)
    ("gevent_pywsgi", 2, 0),  # gevent's own HTTP parser instead of gunicorn's
    ("gthread", 2, 8),
    ("gthread", 2, 16),
    ("sync", 4, 1),
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The processes this run started; each is stopped through its own process group."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if process in self.processes:
            self.processes.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.processes)):
            self.stop(process)


def group_cpu_seconds(pgid: int) -> tuple[float, float]:
    """User and system CPU of every live process in a process group (a gunicorn master and its workers)."""
    user = system = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ... utime(11), stime(12)
            user, system = user + int(fields[11]), system + int(fields[12])
    return user / CLOCK_TICKS, system / CLOCK_TICKS


def wait_http(url: str, headers: dict[str, str], timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=3) as response:
                if response.status == 200:
                    return response.read()
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 in {timeout}s: {last}")


def base_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "ERP_POSTGRES_URL", "BROKER_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG"}
        and not key.startswith(("GUNICORN_", "GATEWAY_", "JWT_", "DJANGO_"))
    }
    env.update(ERP_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="config.settings")
    return env


def mint_token(env: dict[str, str]) -> str:
    """Make the run's key pair (``common.keys``, in the temporary data dir) and a token it signs."""
    script = (
        "import django; django.setup(); from common.keys import ensure_keypair; "
        "from erp_testkit import issue_token; private_path, _ = ensure_keypair(); "
        "print(issue_token(role='admin', lifetime=3600, private_key=private_path.read_text()))"
    )
    output = subprocess.run(
        [PYTHON, "-c", script],
        cwd=ROOT / "contact_svc",
        env={**env, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return output.stdout.strip().splitlines()[-1]


def production_env(env: dict[str, str], data_dir: Path, database: str = "contact") -> dict[str, str]:
    """DEBUG off, as deployed: a real secret, the public key from a file, explicit allowed hosts and database."""
    from common.settings.env import sqlite_url

    service_secret = secrets.token_urlsafe(16)
    return {
        **env,
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": sqlite_url(database, data_dir),
        "BROKER_URL": "filesystem://",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(32),
        "JWT_PUBLIC_KEY_FILE": str(data_dir / "keys" / "jwt_public.pem"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SERVICE_SECRET": service_secret,
        # auth_svc's token for each caller of its withdrawn-access read (one secret for all: a bench).
        "SERVICE_SECRETS": f"contact:{service_secret},gateway:{service_secret}",
        # An admin's OIDC client secret is required with DEBUG off (common.sso); no sign-in is benched.
        "SSO_CLIENT_SECRET": secrets.token_urlsafe(16),
    }


# ---- load generation ----------------------------------------------------------------------------


def run_wrk(url: str, token: str, duration: int, connections: int) -> dict[str, float]:
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),
    }
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        value, unit = float(match.group(1)), match.group(2)
        result[f"p{percentile}"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["errors"] = float(errors.group(1) if errors else 0) + sum(
        float(n) for n in (socket_errors.groups() if socket_errors else ())
    )
    return result


def run_python_load(url: str, token: str, duration: int, connections: int) -> dict[str, float]:
    """Keep-alive HTTP/1.1 clients in threads: a weaker generator than wrk, used only without it."""
    target = urllib.parse.urlsplit(url)
    path = f"{target.path}?{target.query}" if target.query else target.path
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client() -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except OSError:
                errors[0] += 1
                connection.close()
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / duration,
        "requests": float(len(latencies)),
        "p50": quantiles[49],
        "p99": quantiles[98],
        "errors": errors[0],
    }


def measure(url: str, token: str, args: argparse.Namespace, cpu_pgid: int | None = None) -> dict[str, float]:
    load = run_wrk if shutil.which("wrk") else run_python_load
    if args.warmup:
        load(url, token, args.warmup, args.connections)
    cpu_before = group_cpu_seconds(cpu_pgid) if cpu_pgid else (0.0, 0.0)
    result = load(url, token, args.duration, args.connections)
    if cpu_pgid and result["requests"]:
        user, system = (after - before for after, before in zip(group_cpu_seconds(cpu_pgid), cpu_before, strict=True))
        result["cpu_us"] = (user + system) / result["requests"] * 1e6
        result["sys_us"] = system / result["requests"] * 1e6
    return result


def line(label: str, result: dict[str, float]) -> str:
    cpu = f"   gateway CPU {result['cpu_us']:>5.0f} us/req ({result['sys_us']:.0f} sys)" if "cpu_us" in result else ""
    return (
        f"  {label:<30} {result['rps']:>8.0f} req/s   p50 {result['p50']:>7.2f} ms   p99 {result['p99']:>7.2f} ms"
        f"   errors {int(result['errors'])}{cpu}"
    )


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = set.intersection(*(set(run) for run in runs))
    summary = {key: statistics.median(run[key] for run in runs) for key in keys}
    summary["errors"] = sum(run["errors"] for run in runs)
    summary["spread"] = (max(r["rps"] for r in runs) - min(r["rps"] for r in runs)) / summary["rps"]
    return summary


def print_summary(title: str, medians: dict[str, dict[str, float]], rounds: int) -> dict[str, float]:
    print(f"  -- medians of {rounds} interleaved runs ({title})")
    for label, summary in medians.items():
        print(line(label, summary) + f"   (req/s spread {summary['spread']:.0%})")
    ratios = {}
    gateway = medians.get("gateway")
    if gateway:
        for other in ("nginx", "direct"):
            if other in medians:
                ratios[other] = gateway["rps"] / medians[other]["rps"]
                print(
                    f"  ratio gateway/{other:<6} req/s {ratios[other]:.2f}   "
                    f"p50 {gateway['p50'] - medians[other]['p50']:+.2f} ms   "
                    f"p99 {gateway['p99'] - medians[other]['p99']:+.2f} ms"
                )
    return ratios


def run_interleaved(
    title: str, targets: dict[str, str], token: str, args: argparse.Namespace, gateway_pgid: int | None
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Run every target once per round, in the same order each round; return the medians and ratios."""
    print(f"\n== {title}", flush=True)
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in targets}
    for round_number in range(1, args.rounds + 1):
        for label, url in targets.items():
            result = measure(url, token, args, gateway_pgid if label == "gateway" else None)
            runs[label].append(result)
            print(line(f"{label} #{round_number}", result), flush=True)
    medians = {label: median_of(results) for label, results in runs.items()}
    return medians, print_summary(title, medians, args.rounds)


# ---- the services -------------------------------------------------------------------------------


def start_auth(stack: Stack, env: dict[str, str], data_dir: Path, port: int) -> dict[str, str]:
    """Start auth_svc (migrated, SQLite) for the withdrawn-access polls; return ``env`` pointing at it."""
    from common.settings.env import sqlite_url

    auth_dir = ROOT / "auth_svc"
    auth_env = {
        **env,
        "DATABASE_URL": sqlite_url("auth", data_dir),
        "JWT_PRIVATE_KEY_FILE": str(data_dir / "keys" / "jwt_private.pem"),
    }
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=auth_dir, env=auth_env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    stack.start(
        "auth",
        [PYTHON, "-m", "gunicorn", "config.wsgi", "--config", GUNICORN_CONF, "--bind", f"127.0.0.1:{port}",
         "--name", "bench-auth"],
        auth_dir,
        auth_env,
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/health/live", {})
    return {**env, "AUTH_SERVICE_URL": f"http://127.0.0.1:{port}"}


def start_contact(stack: Stack, env: dict[str, str], port: int, token: str) -> str:
    """Start contact_svc (migrated, demo customers seeded) and return one customer's id."""
    contact_dir = ROOT / "contact_svc"
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=contact_dir, env=env, check=True, stdout=subprocess.DEVNULL)
    stack.start(
        "contact",
        [PYTHON, "-m", "gunicorn", "config.wsgi", "--config", GUNICORN_CONF, "--bind", f"127.0.0.1:{port}",
         "--name", "bench-contact"],
        contact_dir,
        env,
    )  # fmt: skip
    body = wait_http(f"http://127.0.0.1:{port}{LIST_PATH}", {"Authorization": f"Bearer {token}"})
    return json.loads(body)["data"][0]["id"]


def start_gateway(
    stack: Stack,
    env: dict[str, str],
    port: int,
    upstream: str,
    token: str,
    setting: tuple[str, int, int],
    probe_path: str,
) -> subprocess.Popen:
    worker_class, workers, threads = setting
    gateway_env = {
        **env,
        **GATEWAY_SERVER_ENV,
        "CONTACT_SERVICE_URL": upstream,
        "GUNICORN_WORKER_CLASS": worker_class,
        "GUNICORN_WORKERS": str(workers),
        # One token at full speed is far above a user's rate limit (proxy.ratelimit): the limiter
        # still takes a token per request, so its cost is measured, but refuses none unless asked.
        "GATEWAY_RATE_LIMIT_USER_RATE": os.environ.get("GATEWAY_RATE_LIMIT_USER_RATE", "1000000"),
        "GATEWAY_RATE_LIMIT_USER_BURST": os.environ.get("GATEWAY_RATE_LIMIT_USER_BURST", "1000000"),
        # Its metrics listener, as deployed (the master answers scrapes; none is made here).
        "ERP_METRICS_BIND": f"127.0.0.1:{free_port()}",
    }
    if worker_class == "gthread":
        gateway_env["GUNICORN_THREADS"] = str(threads)
    elif worker_class == "gevent" and threads:
        gateway_env["GATEWAY_POOL_SIZE"] = str(threads)
    process = stack.start(
        "gateway",
        [PYTHON, "-m", "gunicorn", "config.wsgi", "--config", GUNICORN_CONF, "--bind", f"127.0.0.1:{port}",
         "--name", "bench-gateway"],
        ROOT / "gateway",
        gateway_env,
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/api{probe_path}", {"Authorization": f"Bearer {token}"})
    return process


def start_nginx(stack: Stack, tmp: Path, ports: dict[str, int], upstream_port: int) -> bool:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not nginx:
        return False
    prefix = tmp / "nginx"
    prefix.mkdir()
    template = (Path(__file__).parent / "nginx.conf.template").read_text()
    config = template.replace("$PREFIX", str(prefix)).replace("$UPSTREAM", f"127.0.0.1:{upstream_port}")
    for name, port in sorted(ports.items(), key=lambda item: -len(item[0])):  # STATIC_PROXY before STATIC
        config = config.replace(f"$PORT_{name}", str(port))
    (prefix / "nginx.conf").write_text(config)
    stack.start("nginx", [nginx, "-p", str(prefix), "-e", str(prefix / "nginx-error.log"), "-c", "nginx.conf"],
                prefix, dict(os.environ))  # fmt: skip
    return True


def only(targets: dict[str, str], wanted: list[str]) -> dict[str, str]:
    return {label: url for label, url in targets.items() if label in wanted}


def setting_label(setting: tuple[str, int, int]) -> str:
    worker_class, workers, threads = setting
    if worker_class == "gevent":  # pool 0: the gateway settings' default (worker_connections)
        return f"gevent w={workers} pool={threads or 'default'}"
    return f"{worker_class} w={workers}" + (f" t={threads}" if worker_class == "gthread" else "")


def compare_workers(
    title: str,
    stack: Stack,
    env: dict[str, str],
    token: str,
    args: argparse.Namespace,
    nginx_url: str | None,
    upstream: str,
) -> None:
    """Each gunicorn setting against one upstream, interleaved with nginx, restarting the gateway for each run."""
    print(f"\n== gunicorn settings for the gateway, {title} (the gateway restarted for each run)", flush=True)
    port = free_port()
    runs: dict[str, list[dict[str, float]]] = {"nginx": []} if nginx_url else {}
    for setting in WORKER_SETTINGS:
        runs[setting_label(setting)] = []
    for round_number in range(1, args.rounds + 1):
        if nginx_url:
            runs["nginx"].append(measure(nginx_url, token, args))
            print(line(f"nginx #{round_number}", runs["nginx"][-1]), flush=True)
        for setting in WORKER_SETTINGS:
            process = start_gateway(stack, env, port, upstream, token, setting, LIST_PATH)
            try:
                result = measure(f"http://127.0.0.1:{port}/api{LIST_PATH}", token, args, process.pid)
            finally:
                stack.stop(process)
            runs[setting_label(setting)].append(result)
            print(line(f"{setting_label(setting)} #{round_number}", result), flush=True)
    print(f"  -- medians of {args.rounds} runs")
    for label, results in runs.items():
        summary = median_of(results)
        ratio = f"   gateway/nginx {summary['rps'] / median_of(runs['nginx'])['rps']:.2f}" if nginx_url else ""
        ratio = "" if label == "nginx" else ratio
        print(line(label, summary) + ratio)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per measured run (default 8, max 60)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load before each run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per target (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--targets",
        default="direct,nginx,gateway",
        help="comma-separated targets of each comparison, in their order (default direct,nginx,gateway)",
    )
    parser.add_argument("--skip-trivial", action="store_true", help="skip the constant-upstream overhead figure")
    parser.add_argument("--skip-service", action="store_true", help="skip the contact_svc comparison")
    parser.add_argument(
        "--compare-workers",
        choices=("service", "constant", "both"),
        help="also try other gunicorn settings for the gateway, against contact_svc and/or the constant upstream",
    )
    args = parser.parse_args()
    args.duration = max(1, min(args.duration, 60))
    args.rounds = max(1, min(args.rounds, 10))
    args.targets = [name for name in args.targets.split(",") if name in ("direct", "nginx", "gateway")]

    tmp = Path(tempfile.mkdtemp(prefix="erp-gateway-bench-"))
    stack = Stack(tmp)
    data_dir = tmp / "data"
    env = base_env(data_dir)
    generator = "wrk" if shutil.which("wrk") else "python (wrk not found)"
    print(
        f"load generator: {generator}; {args.connections} connections, {args.rounds} rounds of "
        f"{args.warmup}+{args.duration}s per target; logs in {tmp}"
    )
    print(f"machine: {os.cpu_count()} CPUs shared by the load generator, the proxy and the upstream (loopback)")
    print(f"gateway: gunicorn {GUNICORN_CONF} ({setting_label(GATEWAY_DEFAULT)}); DJANGO_DEBUG off everywhere")
    try:
        token = mint_token(env)
        env = production_env(env, data_dir)
        ports = {name: free_port() for name in ("SERVICE", "SERVICE_PROXY", "STATIC", "STATIC_PROXY", "GATEWAY")}
        env = start_auth(stack, env, data_dir, free_port())
        upstream = f"http://127.0.0.1:{ports['SERVICE']}"
        customer_id = start_contact(stack, env, ports["SERVICE"], token)
        has_nginx = start_nginx(stack, tmp, ports, ports["SERVICE"])
        if has_nginx:
            wait_http(f"http://127.0.0.1:{ports['SERVICE_PROXY']}/api{LIST_PATH}", {"Authorization": f"Bearer {token}"})
        gateway_url = f"http://127.0.0.1:{ports['GATEWAY']}/api"
        gateway = start_gateway(stack, env, ports["GATEWAY"], upstream, token, GATEWAY_DEFAULT, LIST_PATH)
        summary: list[tuple[str, dict[str, dict[str, float]], dict[str, float]]] = []
        service_runs = (
            (f"contact_svc GET {LIST_PATH} (DRF list, SQLite)", LIST_PATH),
            ("contact_svc GET /customers/<id> (one record: a cheaper endpoint)", f"/customers/{customer_id}"),
        )
        for title, path in () if args.skip_service else service_runs:
            targets = {"direct": f"{upstream}{path}"}
            if has_nginx:
                targets["nginx"] = f"http://127.0.0.1:{ports['SERVICE_PROXY']}/api{path}"
            targets["gateway"] = f"{gateway_url}{path}"
            targets = only(targets, args.targets)
            summary.append((title, *run_interleaved(title, targets, token, args, gateway.pid)))
        if has_nginx and not args.skip_trivial:
            stack.stop(gateway)
            static = f"http://127.0.0.1:{ports['STATIC']}"
            gateway = start_gateway(stack, env, ports["GATEWAY"], static, token, GATEWAY_DEFAULT, LIST_PATH)
            title = "constant upstream (nginx return 200): the proxies' own overhead"
            targets = {
                "direct": f"{static}{LIST_PATH}",
                "nginx": f"http://127.0.0.1:{ports['STATIC_PROXY']}/api{LIST_PATH}",
                "gateway": f"{gateway_url}{LIST_PATH}",
            }
            targets = only(targets, args.targets)
            summary.append((title, *run_interleaved(title, targets, token, args, gateway.pid)))
        stack.stop(gateway)
        if args.compare_workers in ("service", "both"):
            nginx_url = f"http://127.0.0.1:{ports['SERVICE_PROXY']}/api{LIST_PATH}" if has_nginx else None
            compare_workers(f"contact_svc GET {LIST_PATH}", stack, env, token, args, nginx_url, upstream)
        if args.compare_workers in ("constant", "both") and has_nginx:
            nginx_url = f"http://127.0.0.1:{ports['STATIC_PROXY']}/api{LIST_PATH}"
            static = f"http://127.0.0.1:{ports['STATIC']}"
            compare_workers("constant upstream", stack, env, token, args, nginx_url, static)
        print("\n== summary (medians): gateway req/s as a share of nginx's and the service's (goal: nginx >= 0.60)")
        for title, medians, ratios in summary:
            shares = "   ".join(f"gateway/{other} {ratio:.2f}" for other, ratio in ratios.items())
            gateway = medians.get("gateway", {})
            cpu = f"   gateway CPU {gateway['cpu_us']:.0f} us/request ({gateway['sys_us']:.0f} in the kernel)"
            print(f"  {title}\n    {shares}" + (cpu if "cpu_us" in gateway else ""))
        return 0
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
