"""The reset mail through a real Celery worker, started by deploy/Procfile's ``worker`` line.

On both brokers the services run with (the kombu filesystem transport of the local run,
RabbitMQ), and with a mail server that is away when the mails are asked for and comes
back later: every mail is sent once, none twice, whichever of the job's retries and the
sweep gets to it first.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from common.jobs.app import celery_app
from common.settings.env import filesystem_broker_folders, filesystem_broker_options
from erp_testkit.broker import delete_job_names
from erp_testkit.faults import wait_until
from erp_testkit.processes import database_url, procfile_command
from erp_testkit.smtp import SmtpSink

from ..models import PasswordResetRequest
from .factories import UserFactory

AUTH_DIR = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["filesystem", "rabbitmq"])
def broker(request, tmp_path):
    """Make a Celery app of this service on one broker and a private queue the current one; the worker's env."""
    from config.celery import app as service_app

    prefix = f"t{uuid.uuid4().hex[:8]}."
    queue = f"{prefix}auth.jobs"
    if request.param == "filesystem":
        url, options = "filesystem://", filesystem_broker_options(tmp_path / "broker")
        for folder in filesystem_broker_folders(options):
            folder.mkdir(parents=True)
    else:
        url, options = os.environ["BROKER_URL"], {}
    # A fresh app: the service's has pooled connections to the tests' broker, and its jobs run eagerly.
    app = celery_app()
    app.conf.update(broker_url=url, broker_transport_options=options, task_default_queue=queue, task_always_eager=False)
    app.set_current()  # the jobs the code under test sends (shared_task) go through it
    yield app, {**os.environ, "BROKER_URL": url, "ERP_EVENTS_PREFIX": prefix, "ERP_DATA_DIR": str(tmp_path)}
    service_app.set_current()
    service_app.set_default()
    app.close()
    if request.param == "rabbitmq":
        delete_job_names(url, queue)


@pytest.mark.django_db(transaction=True)
def test_every_reset_mail_is_sent_once_through_the_worker_while_the_mail_server_goes_and_comes_back(
    api_client, broker, tmp_path, settings
):
    # given: the throttle out of the way (its counters outlive a transactional test), two users,
    # a mail server that is not there yet, and the worker as deploy/Procfile starts it
    app, broker_env = broker
    settings.ACCOUNTS = {**settings.ACCOUNTS, "RESET_MAX_REQUESTS": 1000}
    for email in ("ivy@example.com", "joe@example.com"):
        UserFactory(email=email)
    mail_port = _free_port()
    env = {
        **broker_env,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",  # not the tests' (their jobs run eagerly)
        "DATABASE_URL": database_url(),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mail_port),
        "EMAIL_USE_TLS": "0",
        "AUTH_RESET_MAIL_RETRY_SECONDS": "1",
        "AUTH_RESET_MAIL_SWEEP_AGE_SECONDS": "0",
        "LOG_LEVEL": "INFO",
        # deploy/Procfile says `python`: this interpreter's, as in the local run.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
    }
    command = procfile_command("worker")
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(["/bin/sh", "-c", command], cwd=AUTH_DIR, env=env, stdout=output, stderr=output)
    sink = SmtpSink(mail_port)
    try:

        def worker_log(text: str) -> int:
            assert worker.poll() is None, log.read_text()
            return log.read_text().count(text)

        wait_until(lambda: worker_log("ready"), timeout=60, message="the worker to start")
        # and `make manage SERVICE=auth CMD="celery inspect ping"` (manage.py celery) reaches it. Named
        # (the Procfile's --hostname), it answers as soon as that worker replies; unnamed, inspect
        # waits out the whole timeout for any other worker that might.
        worker_name = f"{AUTH_DIR.name}@{socket.gethostname()}"
        ping = subprocess.run(
            [sys.executable, "manage.py", "celery", "inspect", "ping", "--timeout", "10", "--destination", worker_name],
            cwd=AUTH_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ping.returncode == 0 and "pong" in ping.stdout, ping.stdout + ping.stderr

        # when: three resets are asked for (one unknown email) and the mail server is away
        for email in ("ivy@example.com", "joe@example.com", "nobody@example.com"):
            assert api_client.post("/forgot-password", {"email": email}, format="json").status_code == 200
        wait_until(lambda: worker_log("retried in") >= 2, timeout=60, message="both jobs to meet the outage")
        # and the sweep runs during the outage too
        app.send_task("accounts.password_reset_requests_sweep")
        wait_until(lambda: worker_log("reset mails stay queued"), timeout=60, message="the sweep to meet the outage")

        # when: the mail server is back
        sink.start()
        # every job ends (sent, or found its row gone), then one more sweep
        wait_until(
            lambda: worker_log("accounts.password_reset_mail_send[") and worker_log("succeeded") >= 4,
            timeout=120,
            message="every mail job to succeed",
        )
        app.send_task("accounts.password_reset_requests_sweep")
        wait_until(lambda: worker_log("succeeded") >= 5, timeout=60, message="the last sweep")
    finally:
        sink.stop()
        worker.terminate()
        worker.wait(timeout=30)

    # then: one mail to each known user, none twice, the queue empty
    assert sorted(message["To"] for message in sink.messages) == ["ivy@example.com", "joe@example.com"]
    assert PasswordResetRequest.objects.count() == 0
    # and no reset token (a live secret) reached the worker's log, retries and sweeps included
    tokens = [
        re.search(r"^([A-Za-z0-9_-]{40,})\r?$", message.get_payload(decode=True).decode(), re.MULTILINE).group(1)
        for message in sink.messages
    ]
    assert [token for token in tokens if token in log.read_text()] == []
