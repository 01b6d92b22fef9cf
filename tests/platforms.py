"""The local run (scripts/run.py) as real processes, for the platform tests: one per flavour per session.

Starting the whole platform (six services migrated and seeded, every web server, relay and
consumer) is the slow part of these tests, so each flavour a session's tests need starts once,
in the background from the session's start on, and stops after its last test (``Platforms``;
conftest.py wires it to pytest). Tests on a shared platform keep out of each other's way: every record they make has
a name or tag of its own, a lock-out or a deactivation hits a user they registered (or a
loopback address of their own), and they assert on what they made, never on totals that another
test changes. The one test that stops its platform runs last of that flavour's
(``stops_platform``); one that watches a start runs its own (``running_platform``).

The flavours (``FLAVOURS``):

- ``embedded``: the README's default, nothing but Python (SQLite files, the filesystem broker);
  admin sessions are re-checked every ``SSO_RECHECK_SECONDS`` so that the back office's tests
  see a deactivation or a sign-out quickly (nothing else reads it);
- ``postgres``: the local PostgreSQL and RabbitMQ, on database and event names of its own, upgraded
  from the previous release's run (``upgraded``: tests/test_upgrade.py checks the upgrade first);
- ``replicated``: a fresh run on PostgreSQL and RabbitMQ with two relays and two consumers per service
  (``ERP_WORKER_REPLICAS=2``).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import pytest
from run import SERVICES

from erp_testkit import databases as erp_databases
from erp_testkit.broker import delete_run_names

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 240
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
SSO_RECHECK_SECONDS = 2
# auth_svc hashes new passwords and client secrets with MD5 first (AUTH_PASSWORD_HASHERS; its
# PBKDF2 hashes, of a million rounds, still verify): at a third of a second of CPU each, the
# logins, registrations and back-office sign-ins of one session's tests cost half a minute.
# No platform test is about the hasher; auth_svc's own tests are.
FAST_PASSWORD_HASHING = {"AUTH_PASSWORD_HASHERS": "django.contrib.auth.hashers.MD5PasswordHasher"}
# What the test command exports for the service suites; a local run makes its own.
NOT_INHERITED = {"DATABASE_URL", "ERP_POSTGRES_URL", "ERP_DB_PREFIX", "BROKER_URL", "DJANGO_DEBUG"}


def free_port_base() -> int:
    # From a random start: checkouts testing at once must not race for the same first free range.
    start = random.randrange(18000, 28000, 10)
    for base in [*range(start, 28000, 10), *range(18000, start, 10)]:
        ports = [base + s.port_offset for s in SERVICES]
        if all(port_free(port) for port in ports):
            return base
    raise RuntimeError("no free port range")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _healthy(gateway: str) -> bool:
    try:
        with urllib.request.urlopen(f"{gateway}/health", timeout=30) as response:
            return response.status == 200
    except OSError:  # not listening yet, or an HTTPError (not every upstream is ready)
        return False


@contextlib.contextmanager
def running_platform(data_dir: Path, *, release=None, base: int | None = None, **extra_env: str) -> Iterator[dict]:
    """Start scripts/run.py on spare ports (or ``base``), wait for a green /health, stop it on exit.

    ``release`` (a ``previous_release.PreviousRelease``) runs that release's run.py instead of
    this checkout's (tests/test_upgrade.py). Yields ``gateway`` (its URL), ``public`` (the same
    on ``localhost``, the host the OIDC redirects are registered for: browsers use it), ``base``
    (the port base), ``process``,
    ``log`` (the supervisor's log, in ``data_dir``) and ``env`` (what ``run.py manage`` needs
    besides the ports to reach this run).
    """
    base = base or free_port_base()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update({"ERP_DATA_DIR": str(data_dir), "ERP_PORT_BASE": str(base), **FAST_PASSWORD_HASHING, **extra_env})
    root, python = (ROOT, sys.executable) if release is None else (release.tree, str(release.python))
    if release is not None:
        env = release.env(env)
    log = open(data_dir / "run.log", "a")  # an upgrade runs two releases on one data dir: both logs
    process = subprocess.Popen(
        [python, str(root / "scripts" / "run.py")],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    gateway = f"http://127.0.0.1:{base}"
    deadline = time.monotonic() + START_TIMEOUT
    healthy = False
    while time.monotonic() < deadline and process.poll() is None:
        healthy = _healthy(gateway)
        if healthy:
            break
        time.sleep(1)
    try:
        if not healthy:
            log.flush()
            pytest.fail(f"local run not healthy:\n{(data_dir / 'run.log').read_text()[-5000:]}")
        yield {
            "gateway": gateway,
            "public": f"http://localhost:{base}",
            "base": base,
            "process": process,
            "log": data_dir / "run.log",
            "env": {"ERP_DATA_DIR": str(data_dir), **extra_env},
        }
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


# ---------------------------------------------------------------- the flavours


@contextlib.contextmanager
def embedded(data_dir: Path) -> Iterator[dict]:
    with running_platform(data_dir, SSO_RECHECK_SECONDS=str(SSO_RECHECK_SECONDS)) as running:
        yield running


@contextlib.contextmanager
def postgres_and_rabbitmq_names() -> Iterator[dict[str, str]]:
    """A local run's environment on the local PostgreSQL and RabbitMQ, with names of its own, deleted afterwards."""
    tag = uuid.uuid4().hex[:8]
    infrastructure = {
        "ERP_POSTGRES_URL": PG_SERVER,
        "ERP_DB_PREFIX": f"erp_e2e_{tag}_",
        "BROKER_URL": AMQP_URL,
        "ERP_EVENTS_PREFIX": f"e2e{tag}.",
    }
    try:
        yield infrastructure
    finally:
        delete_broker_names(infrastructure["ERP_EVENTS_PREFIX"])
        drop_databases(infrastructure["ERP_DB_PREFIX"])


def _with_prefixes(running: dict, infrastructure: dict[str, str]) -> dict:
    return {
        **running,
        "db_prefix": infrastructure["ERP_DB_PREFIX"],
        "events_prefix": infrastructure["ERP_EVENTS_PREFIX"],
    }


@contextlib.contextmanager
def on_postgres_and_rabbitmq(data_dir: Path, **extra_env: str) -> Iterator[dict]:
    """The local run against the local PostgreSQL and RabbitMQ, on names of its own, deleted afterwards.

    Yields the run with its ``db_prefix`` and ``events_prefix``.
    """
    with (
        postgres_and_rabbitmq_names() as infrastructure,
        running_platform(data_dir, **infrastructure, **extra_env) as running,
    ):
        yield _with_prefixes(running, infrastructure)


@contextlib.contextmanager
def upgraded(data_dir: Path) -> Iterator[dict]:
    """This checkout's local run on PostgreSQL and RabbitMQ, upgraded from the previous release's.

    The previous release (deploy/PREVIOUS_RELEASE, scripts/previous_release.py) runs first on the
    same names, ports and data dir, is filled through its API and stopped with events in flight
    (tests/upgrade_fill.py); then this release's run starts on what it left, as an operator's
    upgrade does: it migrates and starts every process. Yields that run, as ``on_postgres_and_rabbitmq``
    does, and ``previous_release``, what the previous one left (tests/test_upgrade.py checks it
    first; every other test uses the run as it would a fresh one).
    """
    from previous_release import PreviousReleaseUnavailable, event_registry, prepare
    from upgrade_fill import Marks, Outboxes, count_queued_and_mark_sent_unsent, fill_and_stop

    try:
        release = prepare()
    except PreviousReleaseUnavailable as error:
        raise RuntimeError(str(error)) from None
    base, marks = free_port_base(), Marks()
    with postgres_and_rabbitmq_names() as infrastructure:
        outboxes = Outboxes(PG_SERVER, infrastructure["ERP_DB_PREFIX"])
        # The previous release's gunicorn config leaves a metrics folder per web server in the temporary
        # folder when it stops (scripts/gunicorn.conf.py removes its own since): this run's, not /tmp.
        previous_tmp = data_dir / "previous-release-tmp"
        previous_tmp.mkdir(exist_ok=True)
        with running_platform(data_dir, release=release, base=base, TMPDIR=str(previous_tmp), **infrastructure) as old:
            marks("previous release up")
            previous = fill_and_stop(old, event_registry(release)["subscriptions"], outboxes, marks)
        count_queued_and_mark_sent_unsent(previous, infrastructure["BROKER_URL"], infrastructure["ERP_EVENTS_PREFIX"])
        with running_platform(data_dir, base=base, **infrastructure) as running:
            marks("this release migrated and up")
            yield {**_with_prefixes(running, infrastructure), "previous_release": previous}


@contextlib.contextmanager
def replicated(data_dir: Path) -> Iterator[dict]:
    with on_postgres_and_rabbitmq(data_dir, ERP_WORKER_REPLICAS="2") as running:
        yield running


# In the order their tests run (conftest.py): the embedded platform's between the two on PostgreSQL,
# which cannot run at once (``ON_POSTGRES``), so that they run while one stops and the other starts.
FLAVOURS: dict[str, Callable[[Path], contextlib.AbstractContextManager[dict]]] = {
    "postgres": upgraded,
    "embedded": embedded,
    "replicated": replicated,
}


# A platform on PostgreSQL runs alone (these flavours; the upgrade's two releases run one after the other):
# with the connections of every web server, relay and consumer, two would come near PostgreSQL's
# default max_connections (100), which the service suites and other checkouts' tests share.
ON_POSTGRES = {"postgres", "replicated"}


class Platforms:
    """The session's local runs by flavour, each stopped by ``stop`` once its last test is done.

    ``prepare`` starts the flavours the session needs in the order the tests need them, in two
    threads of their own: one starts the flavours on PostgreSQL one after the other, the other
    the embedded one, which uses none of PostgreSQL's connections. So the embedded platform
    comes up while the first flavour on PostgreSQL is tested, and its tests run while that one
    stops and the next starts (a start is mostly waiting on migrations, seeds and /health).
    ``stop`` stops a flavour in another thread too (the supervisor waits for every process to
    finish its work, and PostgreSQL drops the databases), while the next tests run; ``stop_all``
    waits for every start and stop. A flavour on PostgreSQL starts once the one before it has
    stopped (``ON_POSTGRES``), so no test may ask for two of them. A flavour that failed to
    start fails every test that asks for it, at once, with its error.
    """

    def __init__(self, make_dir: Callable[[str], Path]) -> None:
        self._make_dir = make_dir
        self._starters = {
            on_postgres: ThreadPoolExecutor(max_workers=1, thread_name_prefix="platform-start")
            for on_postgres in (True, False)
        }
        self._stopper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="platform-stop")
        self._started: dict[str, Future[dict]] = {}
        self._stops: dict[str, contextlib.ExitStack] = {}
        self._stopped: list[Future[None]] = []
        self._postgres = threading.Semaphore()

    def prepare(self, flavours: Iterable[str]) -> None:
        for flavour in flavours:
            self._start(flavour)

    def get(self, flavour: str) -> dict:
        return self._start(flavour).result()

    def stop(self, flavour: str) -> None:
        """Stop ``flavour`` if it was started (a test asking for it later would start a fresh one)."""
        started, stack = self._started.pop(flavour, None), self._stops.pop(flavour, None)
        if started is not None and not started.cancel():
            self._stopped.append(self._stopper.submit(_close_once_started, started, stack))

    def stop_all(self) -> None:
        for flavour in list(self._started):
            self.stop(flavour)
        for starter in self._starters.values():
            starter.shutdown()
        self._stopper.shutdown()
        for stopped in self._stopped:
            stopped.result()  # a failed stop is the session's error

    def _start(self, flavour: str) -> Future[dict]:
        if flavour not in self._started:
            stack = contextlib.ExitStack()
            platform = FLAVOURS[flavour](self._make_dir(f"erp-{flavour}"))
            starter = self._starters[flavour in ON_POSTGRES]
            self._started[flavour] = starter.submit(self._enter, flavour, stack, platform)
            self._stops[flavour] = stack
        return self._started[flavour]

    def _enter(self, flavour: str, stack: contextlib.ExitStack, platform) -> dict:
        if flavour in ON_POSTGRES:
            self._postgres.acquire()
            stack.callback(self._postgres.release)  # once the platform has stopped and its databases are gone
        return stack.enter_context(platform)


def _close_once_started(started: Future[dict], stack: contextlib.ExitStack) -> None:
    wait([started])
    stack.close()


# ---------------------------------------------------------------- PostgreSQL and RabbitMQ names


@contextlib.contextmanager
def paused(pids: Iterable[int]) -> Iterator[None]:
    """SIGSTOP the processes for the block (no answer, their ports still accepting), SIGCONT them whatever happens."""
    pids = list(pids)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def database_names(prefix: str) -> set[str]:
    return erp_databases.database_names(PG_SERVER, prefix)


def delete_broker_names(prefix: str, broker: str = AMQP_URL) -> None:
    """Delete only what the run declared (erp_testkit.broker.delete_run_names)."""
    delete_run_names(broker, prefix, [service.name for service in SERVICES])


def drop_databases(prefix: str) -> None:
    erp_databases.drop_databases(PG_SERVER, prefix)
