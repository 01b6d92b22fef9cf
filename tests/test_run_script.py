"""scripts/run.py's parts: taken ports, the masked broker, ``make manage``'s arguments, demo users and order seeds."""

import ast
import datetime
import fcntl
import inspect
import io
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import honcho.manager
import honcho.printer
import honcho.process
import pytest
import run
import supervision
from run import SERVICES, broker_description, processes, taken_ports

ROOT = Path(__file__).resolve().parent.parent


def _free_base() -> int:
    start = random.randrange(28000, 37000, 10)  # apart from the ranges other checkouts' runs pick
    return next(base for base in range(start, 38000, 10) if not taken_ports(base))


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    skipped = {"DATABASE_URL", "ERP_POSTGRES_URL", "ERP_DB_PREFIX", "BROKER_URL", "DJANGO_DEBUG"}
    inherited = {k: v for k, v in os.environ.items() if k not in skipped}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run.py"), *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_broker_is_shown_without_its_password():
    # when
    shown = broker_description({"BROKER_URL": "amqp://erp:s3cret-Pass@rabbitmq:5672//"})

    # then
    assert shown == "amqp://erp:**@rabbitmq:5672//"
    assert broker_description({}) == "filesystem"


def test_a_taken_port_is_named_before_anything_is_made_or_migrated(tmp_path):
    # given another program listening on auth_svc's port
    base = _free_base()
    auth_port = base + next(s.port_offset for s in SERVICES if s.name == "auth")
    data_dir = tmp_path / "data"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", auth_port))
        squatter.listen()

        # when
        result = _run(ERP_PORT_BASE=str(base), ERP_DATA_DIR=str(data_dir))

    # then it stops at once, says which port and how to choose others, and made nothing
    assert result.returncode == 1
    assert f"port {auth_port} (auth) already in use" in result.stdout
    assert "ERP_PORT_BASE=" in result.stdout and "make run" in result.stdout
    assert not data_dir.exists()


def test_a_taken_metrics_port_is_named_too(tmp_path):
    # given another program listening on base+9, where the gateway's metrics go
    base = _free_base()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + run.METRICS_PORT_OFFSET))
        squatter.listen()

        # when
        result = _run(ERP_PORT_BASE=str(base), ERP_DATA_DIR=str(tmp_path / "data"))

    # then
    assert result.returncode == 1
    assert f"port {base + 9} (gateway metrics) already in use" in result.stdout


def test_the_gateway_alone_gets_a_metrics_listener_which_the_banner_prints(tmp_path, monkeypatch):
    # given: a base, and a stray ERP_METRICS_BIND in the caller's environment
    from run import banner, base_env, data_dir, service_env

    monkeypatch.setenv("ERP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ERP_PORT_BASE", "18000")
    monkeypatch.setenv("ERP_METRICS_BIND", "127.0.0.1:1")
    env = base_env(data_dir())

    # when
    binds = {s.name: service_env(s, env, data_dir()).get("ERP_METRICS_BIND") for s in SERVICES}

    # then: the gateway's on loopback at base+9, never the published port; no service's gunicorn binds one
    assert binds == {"gateway": "127.0.0.1:18009", **{s.name: None for s in SERVICES[1:]}}
    assert "  metrics   http://127.0.0.1:18009/metrics" in banner("http://127.0.0.1:18000").splitlines()[5]


def test_manage_without_a_known_service_lists_the_services(tmp_path):
    # when
    result = _run("manage", "contacts", "outbox_status", ERP_DATA_DIR=str(tmp_path / "data"))

    # then
    assert result.returncode == 2
    assert "SERVICE=<gateway, contact, auth, inventory, sales, purchase>" in result.stdout
    assert "got SERVICE='contacts'" in result.stdout


def test_worker_replicas_without_postgres_and_rabbitmq_are_refused_before_anything_is_made(tmp_path):
    # given the embedded default (SQLite, the filesystem broker)
    data_dir = tmp_path / "data"

    # when
    result = _run(ERP_WORKER_REPLICAS="2", ERP_PORT_BASE=str(_free_base()), ERP_DATA_DIR=str(data_dir))

    # then: replicas share the outbox and a queue only on PostgreSQL and RabbitMQ
    assert result.returncode == 1
    assert "ERP_WORKER_REPLICAS=2 needs ERP_POSTGRES_URL and BROKER_URL" in result.stdout
    assert not data_dir.exists()


def test_worker_replicas_must_be_a_whole_number(tmp_path):
    result = _run(ERP_WORKER_REPLICAS="two", ERP_PORT_BASE=str(_free_base()), ERP_DATA_DIR=str(tmp_path / "data"))

    assert result.returncode == 1
    assert "ERP_WORKER_REPLICAS must be a whole number >= 1, got 'two'" in result.stderr


def test_each_worker_replica_has_a_heartbeat_file_of_its_own(monkeypatch):
    # given two replicas per worker
    monkeypatch.setenv("ERP_WORKER_REPLICAS", "2")
    sales = next(s for s in SERVICES if s.name == "sales")

    # when
    workers = [p for p in processes(sales) if p.role in ("relay", "consumer")]

    # then, beside them, the Celery worker and beat in one process (there is one beat per service)
    assert [p.name for p in workers] == ["sales-relay-1", "sales-relay-2", "sales-consumer-1", "sales-consumer-2"]
    assert [(p.name, p.roles) for p in processes(sales)][-1] == ("sales-jobs", ("worker", "beat"))
    heartbeats = [p.env["ERP_WORKER_HEARTBEAT_FILE"] for p in workers]
    assert len(set(heartbeats)) == 4


def test_with_one_replica_each_service_runs_its_web_server_and_one_process_for_all_its_background_work(monkeypatch):
    # given one replica per worker (the default), on RabbitMQ
    monkeypatch.delenv("ERP_WORKER_REPLICAS", raising=False)
    monkeypatch.setenv("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    by_name = {s.name: s for s in SERVICES}

    # when
    layout = {
        name: [(p.name, p.role, p.roles) for p in processes(by_name[name])] for name in ("sales", "contact", "auth")
    }

    # then the relay and the consumer are threads of the Celery worker's process, beat one of its threads
    assert layout["sales"] == [
        ("sales-web", "web", ("web",)),
        ("sales-workers", "workers", ("relay", "consumer", "worker", "beat")),
    ]
    assert layout["contact"][1] == ("contact-workers", "workers", ("relay", "worker", "beat"))
    assert layout["auth"][1] == ("auth-workers", "workers", ("worker", "beat"))
    assert [p.role for p in processes(by_name["gateway"])] == ["web"]


def test_each_service_runs_the_event_workers_its_settings_call_for():
    # given what each service's settings say (common.events.conf.worker_roles), asked of Django once here
    def settings_roles(service) -> list[str]:
        result = subprocess.run(
            [sys.executable, "manage.py", "worker_roles"],
            cwd=ROOT / service.folder,
            env={**os.environ, "DJANGO_DEBUG": "1"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if "Unknown command: 'worker_roles'" in result.stderr:
            return []  # no events app (the gateway), no event worker
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    # then the local run (and with it compose's and Kubernetes' checks) starts exactly those, from SERVICES
    assert {s.name: run.event_roles(s) for s in SERVICES} == {s.name: settings_roles(s) for s in SERVICES}


def test_on_the_filesystem_broker_each_worker_keeps_a_process_of_its_own(monkeypatch):
    # given the embedded default's broker, whose file locks are a process's (threads would corrupt its files)
    monkeypatch.delenv("ERP_WORKER_REPLICAS", raising=False)
    monkeypatch.delenv("BROKER_URL", raising=False)
    sales = next(s for s in SERVICES if s.name == "sales")

    # when
    layout = [(p.name, p.roles) for p in processes(sales)]

    # then
    assert layout == [
        ("sales-web", ("web",)),
        ("sales-relay", ("relay",)),
        ("sales-consumer", ("consumer",)),
        ("sales-jobs", ("worker", "beat")),
    ]


def test_every_local_web_server_runs_one_gunicorn_worker_of_eight_threads_unless_told_otherwise(monkeypatch):
    # given the default, then a run told to use two workers
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    sales = next(s for s in SERVICES if s.name == "sales")
    default = processes(sales)[0].env
    monkeypatch.setenv("GUNICORN_WORKERS", "2")

    # when
    told = processes(sales)[0].env

    # then
    assert (default["GUNICORN_WORKERS"], default["GUNICORN_THREADS"]) == ("1", "8")
    assert (told["GUNICORN_WORKERS"], told["GUNICORN_THREADS"]) == ("2", "8")


def test_the_local_run_serves_plain_http_so_its_cookies_are_not_secure_only(tmp_path, monkeypatch):
    # given the local run's environment (DEBUG off, as in production, but on loopback over HTTP)
    from run import base_env, data_dir

    monkeypatch.setenv("ERP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ERP_TLS_EDGE", raising=False)

    # then: the settings' TLS edge is off unless asked for
    assert base_env(data_dir())["ERP_TLS_EDGE"] == "0"
    monkeypatch.setenv("ERP_TLS_EDGE", "1")
    assert base_env(data_dir())["ERP_TLS_EDGE"] == "1"


def test_the_local_run_names_each_services_sqlite_file_and_never_a_postgres_ones(tmp_path, monkeypatch):
    # given the local run without PostgreSQL (DEBUG off: the settings guess no database)
    from run import base_env, data_dir, service_env

    monkeypatch.setenv("ERP_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "ERP_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    folder = data_dir()
    services = {service.name: service for service in SERVICES}

    # then: each service its own file in the data dir, the gateway none
    assert service_env(services["sales"], base_env(folder), folder)["DATABASE_URL"] == (
        f"sqlite:///{folder}/sales.sqlite3"
    )
    assert "DATABASE_URL" not in service_env(services["gateway"], base_env(folder), folder)
    # and on a PostgreSQL server the settings name the database (<prefix><service>)
    monkeypatch.setenv("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    assert "DATABASE_URL" not in service_env(services["sales"], base_env(folder), folder)


def test_the_local_run_names_the_filesystem_broker_without_rabbitmq(tmp_path, monkeypatch):
    # given no RabbitMQ (DEBUG off: the settings guess no broker)
    from run import base_env, data_dir

    monkeypatch.setenv("ERP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BROKER_URL", raising=False)

    # then
    env = base_env(data_dir())
    assert env["BROKER_URL"] == "filesystem://"
    assert broker_description(env) == "filesystem"
    monkeypatch.setenv("BROKER_URL", "amqp://erp:pw@rabbitmq:5672//")
    assert base_env(data_dir())["BROKER_URL"] == "amqp://erp:pw@rabbitmq:5672//"


# ---------------------------------------------------------------- demo users and demo orders


def test_the_readme_lists_exactly_the_demo_users_the_run_seeds():
    # given: the README's table under "The local run"
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The local run") :].split("\n## ", 1)[0]
    rows = [line.split("|")[1:4] for line in section.splitlines() if line.startswith("| ") and "@" in line]

    # then: the users of auth_svc/accounts/demo_users.json, their passwords and roles
    assert [tuple(cell.strip() for cell in row) for row in rows] == list(run.DEMO_USERS)


DEMO_IDS = {"vendors": [str(uuid.uuid4())], "customers": [str(uuid.uuid4())], "items": [str(uuid.uuid4())]}


def test_a_failed_demo_order_seed_says_why_and_the_run_goes_on(tmp_path, capsys):
    # given: services whose settings refuse to load (no secret with DEBUG off)
    env = {"PATH": os.environ["PATH"], "ERP_DATA_DIR": str(tmp_path), "DJANGO_DEBUG": "0"}

    # when
    run.seed_demo_orders(env, tmp_path, DEMO_IDS, run.Seeds())

    # then: each seeder says it seeded nothing, and why, and the caller goes on
    lines = [line for line in capsys.readouterr().out.splitlines() if "demo orders not seeded" in line]
    reason = "ImproperlyConfigured: DJANGO_SECRET_KEY is missing"
    assert [line.split(":")[0] for line in lines] == ["[erp] purchase_svc", "[erp] sales_svc"]
    assert all("(seed_demo exited 1)" in line and reason in line for line in lines), lines


def test_no_demo_order_seed_starts_once_the_run_is_stopping(tmp_path, capsys, monkeypatch):
    # given: a run that is stopping
    seeds = run.Seeds()
    seeds.stop()
    monkeypatch.setattr(run.subprocess, "Popen", lambda *args, **kwargs: pytest.fail("a seed was started"))

    # when
    run.seed_demo_orders({"PATH": os.environ["PATH"]}, tmp_path, DEMO_IDS, seeds)

    # then
    assert "[erp] purchase_svc: demo orders not seeded: the run is stopping" in capsys.readouterr().out


def test_a_seed_still_running_stops_with_the_run():
    # given
    seeds = run.Seeds()
    process = seeds.start([sys.executable, "-c", "import time; time.sleep(60)"])

    # when
    seeds.stop()

    # then
    assert process.wait(timeout=10) == -signal.SIGTERM


def test_the_supervisor_waits_its_grace_before_it_kills_a_process_that_ignores_sigterm(monkeypatch):
    # The honcho behaviour run.GracefulManager relies on (README: hand-written parts): its loop
    # sends SIGKILL through the public Manager.kill(), on every turn once its own wait is over.
    # With that wait at 0, only the override can hold the SIGKILL back for the grace.
    monkeypatch.setattr(honcho.manager, "KILL_WAIT", 0)
    # loop() installs its own SIGTERM and SIGINT handlers: pytest's are put back afterwards.
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    output = io.StringIO()
    # given: one process that stops at once (so the supervisor stops the rest) and one that ignores SIGTERM
    manager = run.GracefulManager(honcho.printer.Printer(output, colour=False, prefix=False), grace_seconds=1.5)
    manager.add_process("quick", "sleep 0.5")
    manager.add_process("stubborn", "trap '' TERM; sleep 30")
    started = time.monotonic()
    # when
    try:
        manager.loop()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    # then: killed (not terminated), and only after the grace
    elapsed = time.monotonic() - started
    assert f"stubborn stopped (rc={-signal.SIGKILL})" in output.getvalue()
    assert 1.5 < elapsed < 10


def _supervise(manager: run.GracefulManager, until=None) -> None:
    """Run ``manager.loop()``; once ``until()`` holds, stop it as Ctrl-C would (pytest's handlers put back)."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}

    def stop_when_done():
        deadline = time.monotonic() + 60
        while not until() and time.monotonic() < deadline:
            time.sleep(0.05)
        manager.terminate()

    if until is not None:
        threading.Thread(target=stop_when_done, daemon=True).start()
    try:
        manager.loop()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


QUICK_RESTART = run.RestartPolicy(initial_pause=0.05, max_pause=0.1, max_restarts=2, window_seconds=60)


def test_a_killed_worker_is_started_again_and_the_web_server_keeps_running(tmp_path):
    # given: a web server and a worker that is SIGKILLed on its first run
    output = io.StringIO()
    manager = run.GracefulManager(honcho.printer.Printer(output, colour=False), grace_seconds=5)
    manager.add_process("web", "echo serving; sleep 30")
    marker = tmp_path / "first-run-done"
    # (the second run must stop on the run's SIGTERM like the first: exec, a process that does not ignore it)
    worker = f"if [ -e {marker} ]; then echo second run; exec sleep 30; else touch {marker}; kill -9 $$; fi"
    manager.add_process("worker", worker, restart=QUICK_RESTART)
    # when: it runs until the worker is back
    _supervise(manager, until=lambda: "second run" in output.getvalue())
    # then: the worker was started again; nothing stopped before the run was asked to stop
    log = output.getvalue()
    assert f"worker exited (rc={-signal.SIGKILL}); starting it again in 0.05 s" in log
    assert log.index("second run") < log.index("stopped (rc=")
    assert log.count("worker started (pid=") == 2
    assert f"worker stopped (rc={-signal.SIGTERM})" in log  # not SIGKILLed after the grace
    assert manager.crash_loop_causes() == []


def test_a_worker_in_a_crash_loop_stops_the_run_and_says_why():
    # given: a worker that fails at once every time, and a web server
    output = io.StringIO()
    manager = run.GracefulManager(honcho.printer.Printer(output, colour=False), grace_seconds=5)
    manager.add_process("web", "sleep 30")
    manager.add_process("worker", "echo 'django.db.utils.OperationalError: no such table: inventory_stock'; exit 3",
                        restart=QUICK_RESTART)  # fmt: skip
    # when
    _supervise(manager)
    # then: three runs (two restarts), then the run stopped with the worker's status and its last line
    log = output.getvalue()
    assert log.count("worker started (pid=") == 3
    assert "worker stopped (rc=3)" in log
    assert manager.returncode == 3
    assert manager.crash_loop_causes() == [
        "worker keeps crashing (3 exits within 60 s, the last with rc=3); "
        "its last line: django.db.utils.OperationalError: no such table: inventory_stock"
    ]


class _CountingPrinter(honcho.printer.Printer):
    """A printer that also counts the messages of output it was given."""

    def __init__(self, output):
        super().__init__(output, colour=False, prefix=False)
        self.messages = 0

    def write(self, message):
        self.messages += message.type == "line"
        super().write(message)


def test_a_process_s_output_reaches_the_terminal_in_chunks_of_whole_lines_every_line_once_in_order():
    # given: a process that writes 300 lines at once, then one more after a pause, and a last line without a newline
    printer = _CountingPrinter(io.StringIO())
    manager = run.GracefulManager(printer, grace_seconds=5)
    script = (
        "import sys, time; [print(n) for n in range(300)]; sys.stdout.flush(); time.sleep(0.3); "
        "print('late'); print('last', end='')"
    )
    manager.add_process("web", f'{sys.executable} -c "{script}"')
    # when
    _supervise(manager)
    # then: every line once and in order, in a few messages (honcho's reader sent one per line)
    lines = [line for line in printer.output.getvalue().splitlines() if "(pid=" not in line and "(rc=" not in line]
    assert lines == [*map(str, range(300)), "late", "last"]
    assert printer.messages < 20


class _Pieces(io.RawIOBase):
    """A stream whose reads return ``pieces`` one at a time, as a pipe written to in between would."""

    def __init__(self, pieces: list[bytes]):
        self.pieces = list(pieces)

    def fileno(self):
        raise OSError("not a pipe")  # whole_lines grows a real pipe only

    def read1(self, size=-1):
        return self.pieces.pop(0) if self.pieces else b""


def test_whole_lines_holds_a_line_back_until_its_end_and_gives_the_last_one_as_it_is():
    # given: reads that split lines, one of them across three reads
    stream = _Pieces([b"first\nsec", b"o", b"nd\n", b"third\nfourth", b"\nfifth"])
    # when
    chunks = list(supervision.whole_lines(stream, gather_seconds=0))
    # then: each chunk ends at a line's end, and the last line comes as it is
    assert chunks == [b"first\n", b"second\n", b"third\n", b"fourth\n", b"fifth"]


def test_whole_lines_reads_on_at_once_after_a_full_read_and_gathers_only_after_a_drained_pipe(monkeypatch):
    # given: a writer faster than the reader: full reads, then what was left
    full = b"x" * (supervision.READ_BYTES - 1) + b"\n"
    stream = _Pieces([full, full, b"last\n"])
    pauses = []
    monkeypatch.setattr(supervision.time, "sleep", pauses.append)
    # when
    chunks = list(supervision.whole_lines(stream, gather_seconds=0.05))
    # then: no pause after a full read (the writer would wait on a full pipe), one after the pipe was drained
    assert chunks == [full, full, b"last\n"]
    assert pauses == [0.05]


def test_whole_lines_grows_the_pipe_it_reads_to_a_full_read():
    # given: a pipe of the default size
    read_end, write_end = os.pipe()
    os.close(write_end)
    with open(read_end, "rb") as stream:
        # when: read to its end
        list(supervision.whole_lines(stream, gather_seconds=0))
        # then: it holds a full read, which a writer fills before it waits (F_GETPIPE_SZ: Linux)
        assert fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ) >= supervision.READ_BYTES


def test_a_line_the_manager_prints_while_a_chunk_is_formatted_is_not_lost(monkeypatch):
    # given: the manager's SIGINT handler (honcho's "SIGINT received") printing while the chunk printer
    # formats a chunk, as a signal may between any two bytecodes
    output = io.StringIO()
    printer = supervision.ChunkPrinter(output, colour=False, prefix=False)
    now = datetime.datetime(2026, 12, 7, 23, 30)
    interrupted = []

    class Formatting(io.StringIO):
        def getvalue(self):
            value = super().getvalue()
            if not interrupted:
                interrupted.append(True)
                printer.write(honcho.printer.Message("line", "SIGINT received\n", now, "system", None))
            return value

    monkeypatch.setattr(supervision.io, "StringIO", Formatting)
    # when
    printer.write(honcho.printer.Message("line", b"one\ntwo\n", now, "web", None))
    # then
    assert sorted(output.getvalue().splitlines()) == ["SIGINT received", "one", "two"]


def test_the_gathering_process_runs_honcho_s_process_run_but_for_its_read_loop():
    # GatheringProcess.run is a copy of honcho's Process.run (honcho has no hook for its read loop): an upgrade
    # that changes honcho's fails here, not in a run whose reader crashed or whose stop never came
    def statements(function):
        [definition] = ast.parse(textwrap.dedent(inspect.getsource(function))).body
        return [ast.dump(node) for node in definition.body if not isinstance(node, ast.For)]

    assert statements(supervision.GatheringProcess.run) == statements(honcho.process.Process.run)


def test_the_chunk_printer_writes_a_message_of_several_lines_at_once_with_honcho_s_prefixes():
    # given: an output that records its writes
    class Recording(io.StringIO):
        writes = 0

        def write(self, text):
            self.writes += 1
            return super().write(text)

    output = Recording()
    printer = supervision.ChunkPrinter(output, colour=False, width=4)
    message = honcho.printer.Message(
        type="line", data=b"one\ntwo\nthree\n", time=datetime.datetime(2026, 12, 7, 23, 30), name="web", colour=None
    )
    # when
    printer.write(message)
    # then: one write, each line with the process's prefix
    assert output.writes == 1
    assert output.getvalue() == "23:30:00 web  | one\n23:30:00 web  | two\n23:30:00 web  | three\n"


@pytest.mark.parametrize(("role", "restarted"), [("web", False), ("relay", True), ("consumer", True),
                                                 ("mailer", True), ("worker", True), ("beat", True)])  # fmt: skip
def test_every_worker_kind_is_restarted_and_a_web_server_is_not(role, restarted):
    assert (run.Process(f"sales-{role}", role, {}).restart == run.WORKER_RESTART) is restarted
