"""The local run: prepare every service and start all their processes under one supervisor.

``make run`` calls this with the project's virtualenv. It works with nothing but
Python (SQLite files and the kombu filesystem broker under ``ERP_DATA_DIR``) and,
with ``ERP_POSTGRES_URL`` and ``BROKER_URL``, against PostgreSQL and RabbitMQ.
Steps: check that every port is free, make secrets and the JWT key pair once, create
databases, migrate, collect static files, seed demo data, then hand every web server and
worker (outbox relay, event consumer, Celery worker and beat) to honcho, which stops them
all on Ctrl-C or SIGTERM.
Once the gateway's /health is green it prints the banner and seeds the demo orders
through the running services (a failure there is logged; the run goes on).
The commands are the lines of ``deploy/Procfile``, the ones the containers run too.
Leaner than the containers, on one machine: one gunicorn worker per web server, and on RabbitMQ
one background process per service (``workers``: its Celery worker with beat, relay and consumer
as threads) where compose and Kubernetes run a relay, a consumer, a worker and a beat apart (on
the filesystem broker each keeps a process: see ``on_filesystem_broker``).
``ERP_WORKER_REPLICAS=N`` starts N relays and N consumers per service as processes of their own,
beside the service's ``jobs`` process (PostgreSQL and RabbitMQ only: that is where replicas share
the outbox and compete on one queue).

``run.py manage SERVICE ARGS...`` (``make manage SERVICE=contact CMD="outbox_status"``)
runs one service's manage.py command with the local run's environment instead.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from honcho.manager import Manager
from supervision import ChunkPrinter, GatheringProcess, RestartingProcess, RestartPolicy

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The process commands shared with the image's entrypoint (compose, Kubernetes).
PROCFILE = ROOT / "deploy" / "Procfile"

# auth_svc's seed_demo creates these users; the file is their one home. The admin is also every
# other service's Django superuser.
DEMO_USERS_FILE = ROOT / "auth_svc" / "accounts" / "demo_users.json"
DEMO_USERS = tuple((u["email"], u["password"], u["role"]) for u in json.loads(DEMO_USERS_FILE.read_text()))


def demo_user(role: str) -> tuple[str, str]:
    """Return (email, password) of the demo user with ``role`` (tests and benchmarks log in with it)."""
    return next((email, password) for email, password, user_role in DEMO_USERS if user_role == role)


@dataclass(frozen=True)
class Service:
    name: str  # database and service-token name
    folder: str
    port_offset: int
    publishes: bool  # runs an outbox relay
    consumes: bool  # runs an event consumer
    database: bool = True


# contract §1, in port order.
SERVICES = (
    Service("gateway", "gateway", 0, publishes=False, consumes=False, database=False),
    Service("contact", "contact_svc", 1, publishes=True, consumes=False),
    Service("auth", "auth_svc", 2, publishes=False, consumes=False),
    Service("inventory", "inventory_svc", 3, publishes=True, consumes=True),
    Service("sales", "sales_svc", 4, publishes=True, consumes=True),
    Service("purchase", "purchase_svc", 5, publishes=True, consumes=True),
)

# The gateway faces clients, so it runs gunicorn's gevent worker: a client that trickles its
# request holds a greenlet, not one of a few threads (bench/slow_clients.py). It has no
# database, so nothing else changes. compose.yaml gives its gateway the same environment.
GATEWAY_SERVER_ENV = {"GUNICORN_WORKER_CLASS": "gevent"}
# Every local web server runs one gunicorn worker whose threads serve the requests (the gateway's
# gevent worker its greenlets), where the containers run two (scripts/gunicorn.conf.py): a second
# process is a second copy of the project in memory (about 70 MiB) and buys nothing on one machine
# shared by every process of the platform. Eight threads keep the two workers' concurrency and
# database connections (ERP_DB_POOL_MAX_SIZE follows the threads). docs/performance.md, Memory.
LOCAL_WEB_ENV = {"GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "8"}
# The gateway's metrics listener (proxy.metrics): loopback, at base+9, never the published port.
METRICS_PORT_OFFSET = 9
# Seconds every process gets to stop on Ctrl-C / SIGTERM before it is killed.
GRACEFUL_STOP_SECONDS = 15
# A crashed worker (workers, relay, consumer, jobs) is started again after 0.5 s, 1 s, 2 s, ...
# (at most 10 s); more than 5 exits within 60 s is a crash loop, which stops the run.
WORKER_RESTART = RestartPolicy(initial_pause=0.5, max_pause=10.0, max_restarts=5, window_seconds=60.0)


class GracefulManager(Manager):
    """honcho's supervisor, giving every process ``grace_seconds`` between SIGTERM and SIGKILL.

    honcho's own wait is a fixed 5 s (``honcho.manager.KILL_WAIT``); a web server may take
    gunicorn's graceful_timeout (10 s, scripts/gunicorn.conf.py) to finish its requests and
    idle keep-alive connections. honcho's loop calls the public :meth:`kill` on every turn once
    its wait is over; this one sends SIGKILL only once ``grace_seconds`` have passed since
    :meth:`terminate` sent SIGTERM (tests/test_run_script.py pins that honcho goes through it).

    A process added with a ``restart`` policy is started again when it exits on its own
    (``supervision.RestartingProcess``); only a crash loop stops the run, its cause left in
    :meth:`crash_loop_causes`.
    """

    def __init__(self, printer, *, grace_seconds: float):
        super().__init__(printer)
        # Every process's output in chunks of whole lines, not line by line (supervision.GatheringProcess).
        self._process_ctor = GatheringProcess
        self.grace_seconds = grace_seconds
        self.terminating_since: float | None = None
        self.stopping = multiprocessing.Event()
        self.causes = multiprocessing.Queue()

    def add_process(self, name, cmd, quiet=False, env=None, cwd=None, *, restart: RestartPolicy | None = None):
        if restart is None:
            return super().add_process(name, cmd, quiet=quiet, env=env, cwd=cwd)
        # honcho builds each process with its _process_ctor (the hand-written part, pinned by a test).
        plain, self._process_ctor = (
            self._process_ctor,
            partial(RestartingProcess, stopping=self.stopping, causes=self.causes, policy=restart),
        )
        try:
            return super().add_process(name, cmd, quiet=quiet, env=env, cwd=cwd)
        finally:
            self._process_ctor = plain

    def terminate(self):
        if self.terminating_since is None:
            self.terminating_since = time.monotonic()
        self.stopping.set()  # before any SIGTERM: an exit it causes is never restarted
        super().terminate()

    def crash_loop_causes(self) -> list[str]:
        """Return why each worker that kept crashing was given up (empty unless one was)."""
        causes = []
        with contextlib.suppress(queue.Empty):
            while True:
                causes.append(self.causes.get(timeout=0.1))
        return causes

    def kill(self):
        if self.terminating_since is not None and time.monotonic() - self.terminating_since < self.grace_seconds:
            return
        super().kill()


def log(message: str) -> None:
    print(f"[erp] {message}", flush=True)


def data_dir() -> Path:
    """Return the data dir every service reads (<repo>/.run unless ERP_DATA_DIR), made (0700) with its folders."""
    from common.settings.env import data_dir as shared_data_dir
    from common.settings.env import filesystem_broker_folders, filesystem_broker_options

    folder = shared_data_dir()
    # Private to its owner: it holds the SQLite files (password hashes, live refresh
    # tokens), the secrets and the private key. A folder left open by an earlier run is closed.
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    # The kombu filesystem broker (used without BROKER_URL) needs its folders to exist.
    for path in filesystem_broker_folders(filesystem_broker_options(folder / "broker")):
        path.mkdir(parents=True, exist_ok=True)
    return folder


def port_base() -> int:
    return int(os.environ.get("ERP_PORT_BASE", "8000"))


def port_free(port: int) -> bool:
    """Return whether a server could bind 127.0.0.1:port now (gunicorn binds with SO_REUSEADDR too)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def taken_ports(base: int) -> list[tuple[str, int]]:
    """Return (what needs it, port) for each port of the run another program holds: the six servers' and metrics'."""
    ports = [(s.name, base + s.port_offset) for s in SERVICES] + [("gateway metrics", base + METRICS_PORT_OFFSET)]
    return [(name, port) for name, port in ports if not port_free(port)]


def metrics_bind() -> str:
    return f"127.0.0.1:{port_base() + METRICS_PORT_OFFSET}"


def free_port_base(after: int) -> int | None:
    """Return the next base (in steps of 10) whose six ports are all free, or None."""
    for base in range(after + 10, min(after + 1000, 65530), 10):
        if not taken_ports(base):
            return base
    return None


def ports_taken_message(taken: list[tuple[str, int]], base: int) -> str:
    names = ", ".join(f"{port} ({name})" for name, port in taken)
    suggestion = free_port_base(base) or base + 100
    return (
        f"port{'s' if len(taken) > 1 else ''} {names} already in use by another program; nothing was started or "
        f"migrated.\n  Stop that program, or choose other ports with ERP_PORT_BASE (the gateway on it, the services "
        f"on the next five, its metrics on base+9): ERP_PORT_BASE={suggestion} make run"
    )


def broker_description(env: dict[str, str]) -> str:
    """The broker for the start-up line, its password masked."""
    from kombu.utils.url import maybe_sanitize_url

    url = env.get("BROKER_URL")
    return maybe_sanitize_url(url) if url and not url.startswith("filesystem") else "filesystem"


def admin_services() -> tuple[Service, ...]:
    """The services with a Django admin (each an OIDC client of the back office's single sign-on)."""
    return tuple(s for s in SERVICES if s.database)


def sso_client_id(service: Service) -> str:
    return f"{service.name}-admin"


def local_secrets(folder: Path) -> dict[str, str]:
    """Return this data dir's secrets, each made once: Django secret key, service and admin-client secrets.

    A data dir from before a secret existed gets the missing ones added; the others stay.
    """
    path = folder / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    wanted = {"DJANGO_SECRET_KEY": 50}
    wanted |= {f"SERVICE_SECRET_{s.name.upper()}": 32 for s in SERVICES}
    wanted |= {f"SSO_CLIENT_SECRET_{s.name.upper()}": 32 for s in admin_services()}
    missing = {name: secrets.token_urlsafe(size) for name, size in wanted.items() if name not in values}
    if missing or not path.exists():
        values |= missing
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return values


def jwt_keys() -> tuple[Path, Path]:
    """Return the key pair in the data dir, made once (``python -m common.keys`` does the same)."""
    from common.keys import ensure_keypair

    return ensure_keypair(data_dir() / "keys")


def base_env(folder: Path) -> dict[str, str]:
    values = local_secrets(folder)
    _, public_key = jwt_keys()
    base = port_base()
    env = dict(os.environ)
    env.update(
        {
            "ERP_DATA_DIR": str(folder),
            "ERP_PORT_BASE": str(base),
            "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "0"),
            "DJANGO_SECRET_KEY": values["DJANGO_SECRET_KEY"],
            "DJANGO_ALLOWED_HOSTS": os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"),
            "JWT_PUBLIC_KEY_FILE": str(public_key),
            "AUTH_OPEN_REGISTRATION": os.environ.get("AUTH_OPEN_REGISTRATION", "1"),
            # Without DEBUG the settings guess no broker: the kombu filesystem one in the data dir.
            "BROKER_URL": os.environ.get("BROKER_URL") or "filesystem://",
            # Plain HTTP on loopback: cookies must not be Secure-only (common.settings.base TLS_EDGE).
            "ERP_TLS_EDGE": os.environ.get("ERP_TLS_EDGE", "0"),
            "SERVICE_SECRETS": ",".join(f"{s.name}:{values[f'SERVICE_SECRET_{s.name.upper()}']}" for s in SERVICES),
            # Where browsers reach the gateway: the back office's OIDC redirects and CSRF origin.
            "ERP_PUBLIC_URL": os.environ.get("ERP_PUBLIC_URL", f"http://localhost:{base}"),
            "SSO_CLIENTS": ",".join(
                f"{s.name}:{sso_client_id(s)}:{values[f'SSO_CLIENT_SECRET_{s.name.upper()}']}" for s in admin_services()
            ),
            "PYTHONUNBUFFERED": "1",
            # deploy/Procfile says `python`: this interpreter's (the project's .venv).
            "PATH": os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", os.defpath)]),
        }
    )
    for service in SERVICES:
        env[f"{service.name.upper()}_SERVICE_URL"] = f"http://127.0.0.1:{base + service.port_offset}"
    return env


def service_env(service: Service, env: dict[str, str], folder: Path) -> dict[str, str]:
    values = local_secrets(folder)
    own = dict(env)
    own["SERVICE_SECRET"] = values[f"SERVICE_SECRET_{service.name.upper()}"]
    if service.database:
        own["SSO_CLIENT_ID"] = sso_client_id(service)
        own["SSO_CLIENT_SECRET"] = values[f"SSO_CLIENT_SECRET_{service.name.upper()}"]
    if service.database and not own.get("DATABASE_URL") and not own.get("ERP_POSTGRES_URL"):
        # Without DEBUG the settings never guess a database: the local run names its SQLite file.
        from common.settings.env import sqlite_url

        own["DATABASE_URL"] = sqlite_url(service.name, folder)
    if service.name == "gateway":
        for name, value in GATEWAY_SERVER_ENV.items():
            own.setdefault(name, value)
        own["ERP_METRICS_BIND"] = metrics_bind()
    else:
        own.pop("ERP_METRICS_BIND", None)  # the services answer /metrics on their own port
    if service.name == "auth":
        # Only auth_svc ever sees the private key; the others verify with the public one.
        own["JWT_PRIVATE_KEY_FILE"] = str(jwt_keys()[0])
    else:
        own.pop("SERVICE_SECRETS", None)
        own.pop("SSO_CLIENTS", None)  # every admin's client secret: the provider's alone
    return own


def create_postgres_databases() -> None:
    server = os.environ.get("ERP_POSTGRES_URL")
    if not server:
        return
    import psycopg
    from psycopg import sql

    from common.settings.env import postgres_server_url

    prefix = os.environ.get("ERP_DB_PREFIX", "")
    with psycopg.connect(postgres_server_url("postgres"), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for service in SERVICES:
            name = f"{prefix}{service.name}"
            if service.database and name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log(f"created database {name}")


def manage(service: Service, env: dict[str, str], *args: str) -> str:
    """Run one manage.py command; return its output, or stop the run (nothing started yet) if it failed."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT / service.folder,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"{service.folder}: manage.py {' '.join(args)} failed")
    return result.stdout


def run_role(service: Service, env: dict[str, str], role: str) -> None:
    """Run a one-shot deploy/Procfile entry (``migrate``) to completion, as its container does."""
    result = subprocess.run(
        ["/bin/sh", "-c", procfile_commands()[role]], cwd=ROOT / service.folder, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"{service.folder}: {role} failed")


def has_command(service: Service, command: str) -> bool:
    folder = ROOT / service.folder
    return any(folder.glob(f"*/management/commands/{command}.py"))


# Demo orders go through the services' real code paths (sales and purchase check the party
# and the items with contact_svc and inventory_svc, inventory moves the stock by event), so
# they are seeded once every service answers, from the demo contacts' and items' ids.
# (service, its party option, the ids it takes from the owners' ``seed_demo --ids-json``)
ORDER_SEEDS = (("purchase", "vendor", "vendors"), ("sales", "customer", "customers"))
ORDER_SEED_SOURCES = ("contact", "inventory")
ORDER_SEEDERS = {name for name, _, _ in ORDER_SEEDS}
# Seconds a seed may take, and how long sales waits for inventory's answer before the
# cancel of an issued demo order (one more ``make run`` takes the steps still missing).
ORDER_SEED_TIMEOUT = 120
ORDER_SEED_SETTLE_SECONDS = "30"


def prepare(service: Service, env: dict[str, str]) -> dict[str, list[str]]:
    """Migrate, collect static files and seed one service (idempotent); return its demo records' ids."""
    manage(service, env, "collectstatic", "--noinput", "-v", "0")
    if not service.database:
        return {}
    run_role(service, env, "migrate")
    demo_ids: dict[str, list[str]] = {}
    if service.name in ORDER_SEED_SOURCES:
        demo_ids = json.loads(manage(service, env, "seed_demo", "--ids-json"))
    elif has_command(service, "seed_demo") and service.name not in ORDER_SEEDERS:  # those seed once all run
        manage(service, env, "seed_demo")
    log(f"{service.folder}: ready (migrated, static files, demo data)")
    return demo_ids


class Seeds:
    """The demo-order seeds of one run: each stopped with the run, and none started once it is stopping.

    The seeds run in a thread beside the supervisor; without the lock, a seed started just as
    the run stops would outlive it, calling services that are gone.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = False
        self._running: list[subprocess.Popen] = []

    def start(self, args: list[str], **popen) -> subprocess.Popen | None:
        """Start one seed's process, or return None once the run is stopping."""
        with self._lock:
            if self._stopping:
                return None
            process = subprocess.Popen(args, **popen)
            self._running.append(process)
            return process

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            for process in self._running:
                if process.poll() is None:
                    process.terminate()


def seed_demo_orders(env: dict[str, str], folder: Path, demo_ids: dict[str, list[str]], seeds: Seeds) -> None:
    """Seed the demo orders through the running services; a failure is logged, never fatal to the run."""
    items = demo_ids.get("items", [])
    for name, party, source in ORDER_SEEDS:
        service = service_named(name)
        parties = demo_ids.get(source, [])
        if not parties or not items:
            log(f"{service.folder}: demo orders not seeded: no demo {source} or items to order")
            continue
        args = [f"--{party}={pk}" for pk in parties] + [f"--item={pk}" for pk in items]
        process = seeds.start(
            [PYTHON, "manage.py", "seed_demo", *args, "--settle", ORDER_SEED_SETTLE_SECONDS],
            cwd=ROOT / service.folder,
            env=service_env(service, env, folder),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if process is None:
            log(f"{service.folder}: demo orders not seeded: the run is stopping")
            return
        try:
            out, err = process.communicate(timeout=ORDER_SEED_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            log(f"{service.folder}: demo orders not seeded: seed_demo took more than {ORDER_SEED_TIMEOUT} s")
            continue
        if process.returncode != 0:
            reason = (err.strip().splitlines() or ["no output"])[-1]
            log(f"{service.folder}: demo orders not seeded (seed_demo exited {process.returncode}): {reason}")
            continue
        for line in out.strip().splitlines():
            log(f"{service.folder}: {line}")


@dataclass(frozen=True)
class Process:
    """One supervised process: honcho's label, its deploy/Procfile entry, what it adds to the service's env."""

    name: str
    role: str
    env: dict[str, str]
    # The deploy/Procfile roles whose work it does, each a container of its own in compose and
    # Kubernetes (empty: its own role). The local run's ``jobs`` and ``workers`` stand for several.
    covers: tuple[str, ...] = ()

    @property
    def roles(self) -> tuple[str, ...]:
        return self.covers or (self.role,)

    @property
    def restart(self) -> RestartPolicy | None:
        """How a crash is met: every worker kind is started again; a web server stops the run.

        A worker's work waits for it (the outbox, the queue), so a restart loses nothing; a
        web server down is what the gateway's /health reports, and the run stops as before.
        """
        return None if self.role == "web" else WORKER_RESTART


def procfile_commands() -> dict[str, str]:
    """Return deploy/Procfile's commands by process type (honcho's own parser)."""
    from honcho.environ import parse_procfile

    return dict(parse_procfile(PROCFILE.read_text()).processes)


def worker_replicas() -> int:
    value = os.environ.get("ERP_WORKER_REPLICAS", "1")
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"ERP_WORKER_REPLICAS must be a whole number >= 1, got {value!r}")
    return int(value)


def replicas_refusal() -> str | None:
    """Say why more than one replica per worker cannot run here, or None."""
    replicas = worker_replicas()
    if replicas == 1 or (os.environ.get("ERP_POSTGRES_URL") and os.environ.get("BROKER_URL")):
        return None
    # SQLite has no SKIP LOCKED and wakes its relay on one UDP port; the filesystem broker is one folder.
    return (
        f"ERP_WORKER_REPLICAS={replicas} needs ERP_POSTGRES_URL and BROKER_URL: relays share the outbox with "
        "SKIP LOCKED (PostgreSQL) and consumers compete on one RabbitMQ queue; nothing was started."
    )


def local_web_env() -> dict[str, str]:
    """The local run's gunicorn settings (each overridable from the environment), see LOCAL_WEB_ENV."""
    return {name: os.environ.get(name, value) for name, value in LOCAL_WEB_ENV.items()}


def event_roles(service: Service) -> list[str]:
    """The event workers a service runs, each replicated by ``ERP_WORKER_REPLICAS``: "relay", "consumer".

    From ``SERVICES``, which starts no Django: what each service's settings call for (``manage.py
    worker_roles``) is the same, tests/test_run_script.py checks.
    """
    return (["relay"] if service.publishes else []) + (["consumer"] if service.consumes else [])


def processes(service: Service) -> list[Process]:
    """Return the processes to supervise for one service, each a deploy/Procfile entry."""
    bind = f"127.0.0.1:{port_base() + service.port_offset}"
    result = [Process(f"{service.name}-web", "web", {"ERP_BIND": bind, **local_web_env()})]
    roles = event_roles(service)
    replicas = worker_replicas()
    if replicas == 1 and runs_jobs(service) and not on_filesystem_broker():
        # One background process for the service (deploy/Procfile ``workers``): its Celery worker
        # with beat, relay and consumer as threads: one copy of the project in memory, not three.
        # Never replicated, so exactly one beat (docs/jobs.md).
        result.append(Process(f"{service.name}-workers", "workers", {}, covers=(*roles, "worker", "beat")))
        return result
    for role in roles:
        for index in range(1, replicas + 1):
            if replicas == 1:
                result.append(Process(f"{service.name}-{role}", role, {}))
                continue
            # Replicas on one host: each needs a heartbeat file of its own (worker_health reads one).
            heartbeat = str(data_dir() / "workers" / f"{service.name}-{role}-{index}.alive")
            result.append(Process(f"{service.name}-{role}-{index}", role, {"ERP_WORKER_HEARTBEAT_FILE": heartbeat}))
    if runs_jobs(service):
        # Beside replicated relays and consumers: its Celery worker with beat as a thread
        # (deploy/Procfile ``jobs``), never replicated, so exactly one beat (docs/jobs.md).
        result.append(Process(f"{service.name}-jobs", "jobs", {}, covers=("worker", "beat")))
    return result


def on_filesystem_broker() -> bool:
    """Whether the run uses kombu's filesystem transport (the embedded default), not RabbitMQ.

    There each worker keeps a process of its own: the transport guards its exchange files with
    POSIX locks, which belong to a process, so a relay, a consumer and Celery declaring at once
    as threads of one process corrupt them (every later declare fails on their JSON).
    """
    return (os.environ.get("BROKER_URL") or "filesystem://").startswith("filesystem")


def runs_jobs(service: Service) -> bool:
    """A service has background jobs if it has a Celery app (``config/celery.py``, common.jobs)."""
    return (ROOT / service.folder / "config" / "celery.py").exists()


def wait_until_healthy(gateway_url: str, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{gateway_url}/health", timeout=3) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def banner(gateway_url: str) -> str:
    base = port_base()
    lines = [
        "",
        "ERP platform is up.",
        f"  gateway   {gateway_url}   (health: {gateway_url}/health)",
        f"  API docs  {gateway_url}/api/docs/   ReDoc: {gateway_url}/api/redoc/   schema: {gateway_url}/api/schema/",
    ]
    public = os.environ.get("ERP_PUBLIC_URL", f"http://localhost:{base}")
    lines.append(f"  back office {public}/admin/   (sign in once; every admin under /admin/<service>/)")
    lines.append(f"  metrics   http://{metrics_bind()}/metrics   (the gateway's; each service's at its own /metrics)")
    for service in SERVICES[1:]:
        url = f"http://127.0.0.1:{base + service.port_offset}"
        lines.append(f"  {service.folder:<14}{url}   docs: {url}/docs/")
    lines.append("  demo users (API login at /api/auth/login, the same account signs in to the back office):")
    lines += [f"    {email:<24}{password:<22}{role}" for email, password, role in DEMO_USERS]
    lines.append("  demo orders  seeded through the services now, one line each below")
    lines.append(f"  data dir  {data_dir()}    stop: Ctrl-C")
    return "\n".join(lines)


def service_named(name: str) -> Service | None:
    return next((s for s in SERVICES if name in (s.name, s.folder)), None)


def run_manage(name: str, args: list[str]) -> int:
    """Become ``manage.py ARGS`` of one service with the local run's environment (or return 2: no such service).

    exec, not a child: the command gets the signals sent to this process and exits with its own
    status, so a long-running one (a relay or consumer replica, tests/test_replicas.py) stops cleanly.
    """
    service = service_named(name)
    if service is None or not args:
        names = ", ".join(s.name for s in SERVICES)
        log(f'usage: make manage SERVICE=<{names}> CMD="<command and options>" (got SERVICE={name!r})')
        return 2
    folder = data_dir()
    env = service_env(service, base_env(folder), folder)
    os.chdir(ROOT / service.folder)
    os.execve(PYTHON, [PYTHON, "manage.py", *args], env)  # noqa: S606 (no shell: the arguments as given)


def main(argv: list[str]) -> int:
    if argv[:1] == ["manage"]:
        return run_manage(argv[1] if len(argv) > 1 else "", argv[2:])
    # Before anything is made or migrated: a taken port would stop the run half-way.
    taken = taken_ports(port_base())
    if taken:
        log(ports_taken_message(taken, port_base()))
        return 1
    refusal = replicas_refusal()
    if refusal:
        log(refusal)
        return 1
    folder = data_dir()
    env = base_env(folder)
    log(
        f"data dir {folder}; database: {'PostgreSQL' if env.get('ERP_POSTGRES_URL') else 'SQLite'}; "
        f"broker: {broker_description(env)}"
    )
    create_postgres_databases()
    with ThreadPoolExecutor(max_workers=3) as pool:
        demo_ids = {
            k: v
            for ids in pool.map(lambda s: prepare(s, service_env(s, env, folder)), SERVICES)
            for k, v in ids.items()
        }

    manager = GracefulManager(ChunkPrinter(sys.stdout), grace_seconds=GRACEFUL_STOP_SECONDS)
    commands = procfile_commands()
    for service in SERVICES:
        own_env = service_env(service, env, folder)
        for process in processes(service):
            manager.add_process(
                process.name,
                commands[process.role],
                cwd=str(ROOT / service.folder),
                env={**own_env, **process.env},
                restart=process.restart,
            )

    gateway_url = f"http://127.0.0.1:{port_base()}"

    def announce() -> None:
        if wait_until_healthy(gateway_url):
            print(banner(gateway_url), flush=True)
            seed_demo_orders(env, folder, demo_ids, seeds)
        else:
            log(f"the platform did not become healthy; see {gateway_url}/health; demo orders not seeded")

    seeds = Seeds()
    threading.Thread(target=announce, daemon=True).start()
    # honcho runs each process from a fork of this one, which shares this one's memory until it writes
    # to it. Frozen, the objects made so far are never visited by a fork's garbage collections, each
    # of which would copy every page they lie on: about 10 MiB more per process (docs/performance.md).
    gc.freeze()
    manager.loop()
    seeds.stop()  # a seed still running when the run stops goes with it
    for cause in manager.crash_loop_causes():
        log(f"the run stopped: {cause}")  # the last line: why, not honcho's list of stopped processes
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
