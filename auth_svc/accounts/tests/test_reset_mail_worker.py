"""forgot-password queues, the send_reset_mails worker mails: the same request path for every email."""

from __future__ import annotations

import logging
import os
import re
import signal
import smtplib
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import OperationalError, connection

from ..mail import PrivateFileEmailBackend
from ..management.commands import send_reset_mails
from ..models import PasswordResetRequest, PasswordResetToken
from ..services import password_reset_requests_process
from .factories import UserFactory

AUTH_DIR = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "Another-Passw0rd!"


def _ask(client, email: str):
    return client.post("/forgot-password", {"email": email}, format="json")


def _token_in(text: str) -> str:
    return re.search(r"^([A-Za-z0-9_-]{40,})$", text, re.MULTILINE).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["ivy@example.com", "nobody@example.com"])
def test_request_path_only_queues_whatever_the_email(api_client, user, email):
    # when
    response = _ask(api_client, email.upper())

    # then: one queued row, nothing looked up, made or sent yet
    assert response.status_code == 200
    assert list(PasswordResetRequest.objects.values_list("email", flat=True)) == [email]
    assert PasswordResetToken.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_worker_mails_a_known_email_a_token_that_works_once(api_client, user):
    # given
    _ask(api_client, user.email)

    # when
    handled = password_reset_requests_process()

    # then
    assert handled == 1
    assert [message.to for message in mail.outbox] == [["ivy@example.com"]]
    token = _token_in(mail.outbox[0].body)
    first = api_client.post("/reset-password", {"reset_token": token, "new_password": NEW_PASSWORD}, format="json")
    second = api_client.post(
        "/reset-password", {"reset_token": token, "new_password": "Third-Passw0rd!"}, format="json"
    )
    assert (first.status_code, second.status_code) == (200, 400)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert PasswordResetRequest.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["nobody@example.com", "gone@example.com"])
def test_worker_sends_nothing_for_an_unknown_or_inactive_email(api_client, email):
    # given
    UserFactory(email="gone@example.com", is_active=False)
    _ask(api_client, email)

    # when
    handled = password_reset_requests_process()

    # then: handled and gone, and nothing else
    assert handled == 1
    assert mail.outbox == []
    assert PasswordResetToken.objects.count() == 0
    assert PasswordResetRequest.objects.count() == 0


@pytest.mark.django_db
def test_throttled_request_queues_nothing(api_client, settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "RESET_MAX_REQUESTS": 1}
    _ask(api_client, "a@example.com")

    # when
    response = _ask(api_client, "a@example.com")

    # then
    assert response.status_code == 429
    assert PasswordResetRequest.objects.count() == 1


@pytest.mark.django_db
def test_worker_takes_requests_oldest_first_in_batches(api_client, user):
    # given
    for email in ("nobody@example.com", user.email, "other@example.com"):
        _ask(api_client, email)

    # when
    first = password_reset_requests_process(limit=2)
    rest = password_reset_requests_process(limit=2)

    # then
    assert (first, rest) == (2, 1)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_command_once_handles_the_queue(api_client, user):
    # given
    _ask(api_client, user.email)

    # when
    call_command("send_reset_mails", "--once")

    # then
    assert len(mail.outbox) == 1
    assert PasswordResetRequest.objects.count() == 0


@pytest.mark.django_db
def test_worker_logs_a_database_outage_in_one_line_and_loses_nothing(api_client, user, monkeypatch, caplog):
    # given: a queued request, and a database that fails the worker's next poll
    _ask(api_client, user.email)
    command = sys.modules[send_reset_mails.__name__]

    def database_away(**_):
        raise OperationalError("server closed the connection unexpectedly")

    # when
    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING):
        patched.setattr(command, "password_reset_requests_process", database_away)
        call_command("send_reset_mails", "--once")
    call_command("send_reset_mails", "--once")  # the database is back

    # then: one warning, no traceback; the request was kept and then mailed once
    [record] = [r for r in caplog.records if r.name == send_reset_mails.__name__]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "send_reset_mails: the database failed (OperationalError); retrying in 1.0s"
    assert record.exc_info is None
    assert len(mail.outbox) == 1
    assert PasswordResetRequest.objects.count() == 0


class _FailingBackend(BaseEmailBackend):
    """A mail backend whose server fails with ``FailingBackend.error`` (set per test)."""

    error: Exception = ConnectionRefusedError()

    def send_messages(self, email_messages):
        raise type(self).error


@pytest.mark.django_db
def test_mail_server_away_keeps_the_request_queued_until_it_is_back(api_client, user, settings, caplog):
    # given: two requests queued while the mail server refuses connections
    _ask(api_client, user.email)
    _ask(api_client, "nobody@example.com")
    settings.EMAIL_BACKEND = f"{__name__}._FailingBackend"

    # when
    with caplog.at_level(logging.WARNING):
        handled = password_reset_requests_process()

    # then: nothing lost, no token made for a mail that never left, one warning line
    assert handled == 0
    assert PasswordResetRequest.objects.count() == 2
    assert PasswordResetToken.objects.count() == 0
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == "The mail server is unavailable (ConnectionRefusedError); reset mails stay queued"
    assert record.exc_info is None

    # when: the mail server is back
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    handled = password_reset_requests_process()

    # then: mailed once, queue empty
    assert handled == 2
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert PasswordResetRequest.objects.count() == 0


@pytest.mark.django_db
def test_an_address_the_mail_server_refuses_is_dropped_not_retried_forever(api_client, user, settings, monkeypatch):
    # given: the server refuses this one recipient for good
    _ask(api_client, user.email)
    monkeypatch.setattr(_FailingBackend, "error", smtplib.SMTPRecipientsRefused({user.email: (550, b"no such user")}))
    settings.EMAIL_BACKEND = f"{__name__}._FailingBackend"

    # when
    handled = password_reset_requests_process()

    # then: the queue goes on instead of stopping at this request
    assert handled == 1
    assert PasswordResetRequest.objects.count() == 0


def test_file_backend_keeps_the_mail_private(tmp_path, settings):
    # given: an earlier run left the folder world-readable, and a permissive umask
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)
    previous = os.umask(0o022)
    try:
        # when
        backend = PrivateFileEmailBackend(file_path=str(folder))
        backend.send_messages([mail.EmailMessage("s", "token", "from@example.com", ["to@example.com"])])
    finally:
        os.umask(previous)

    # then
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


@pytest.mark.django_db(transaction=True)
def test_worker_process_mails_and_stops_on_sigterm(api_client, user, tmp_path):
    # given: a request queued, and the worker started as the local run starts it
    _ask(api_client, user.email)
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "ERP_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("EMAIL_BACKEND", None)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "send_reset_mails", "--interval", "0.2"],
        cwd=AUTH_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        mail_dir = tmp_path / "mail"
        deadline = time.monotonic() + 30
        while not (mail_dir.exists() and any(mail_dir.iterdir())) and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()[0]
            time.sleep(0.1)
        # and its liveness probe (the container's healthcheck) sees it beat
        probe = [sys.executable, "manage.py", "worker_health", "mailer"]
        alive = subprocess.run(probe, cwd=AUTH_DIR, env=env, capture_output=True, text=True, timeout=60)

        # when
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()
    gone = subprocess.run(probe, cwd=AUTH_DIR, env=env, capture_output=True, text=True, timeout=60)

    # then: mailed once, privately (the default file backend), and stopped within the timeout
    assert worker.returncode == 0, output
    assert alive.returncode == 0 and alive.stdout.startswith("mailer: alive"), alive.stdout + alive.stderr
    # a stopped worker is not alive: its heartbeat file went with it
    assert gone.returncode == 1 and "mailer: no heartbeat" in gone.stderr, gone.stderr
    (message,) = mail_dir.iterdir()
    assert stat.S_IMODE(mail_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(message.stat().st_mode) == 0o600
    assert "To: ivy@example.com" in message.read_text()
    assert PasswordResetRequest.objects.count() == 0
