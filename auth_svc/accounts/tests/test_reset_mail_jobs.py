"""forgot-password queues, the mail job and the sweep mail: the same request path for every email."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import stat
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .. import tasks
from ..mail import PrivateFileEmailBackend
from ..models import PasswordResetRequest, PasswordResetToken
from ..services import password_reset_requests_process
from .factories import UserFactory

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
def test_the_request_sends_the_mail_job_once_its_row_is_committed(api_client, user, django_capture_on_commit_callbacks):
    # when: the commit runs the job (eagerly, in the tests)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _ask(api_client, user.email)

    # then: one job, one mail, the row gone
    assert response.status_code == 200
    assert len(callbacks) == 1
    assert [message.to for message in mail.outbox] == [["ivy@example.com"]]
    assert PasswordResetRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_broker_away_at_the_request_loses_nothing(
    api_client, user, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    # given: the broker refuses the job
    def broker_away(*args, **kwargs):
        raise BrokerError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.password_reset_mail_send, "apply_async", broker_away)

    # when
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = _ask(api_client, user.email)
    request = PasswordResetRequest.objects.get()
    PasswordResetRequest.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    swept = tasks.password_reset_requests_sweep()

    # then: the same answer, one warning, and the sweep sent the mail
    assert response.status_code == 200
    [warning] = [r.getMessage() for r in caplog.records if r.name == "accounts.services"]
    assert warning == (
        f"The reset mail job of request {request.pk} was not queued ([Errno 111] Connection refused); "
        "the sweep sends it"
    )
    assert swept == 1
    assert [message.to for message in mail.outbox] == [["ivy@example.com"]]


@pytest.mark.django_db
def test_mail_job_mails_a_known_email_a_token_that_works_once(api_client, user):
    # given
    _ask(api_client, user.email)

    # when
    sent = tasks.password_reset_mail_send(request_id=PasswordResetRequest.objects.get().pk)

    # then
    assert sent is True
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
    sent = tasks.password_reset_mail_send(request_id=PasswordResetRequest.objects.get().pk)

    # then: handled and gone, and nothing else
    assert sent is True
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
def test_sweep_sends_only_requests_older_than_its_age(api_client, user, settings):
    # given: one request queued 6 minutes ago (its job lost), one just now (its job on the way)
    settings.ACCOUNTS = {**settings.ACCOUNTS, "RESET_MAIL_SWEEP_AGE_SECONDS": 300}
    _ask(api_client, user.email)
    PasswordResetRequest.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    _ask(api_client, "nobody@example.com")

    # when
    swept = tasks.password_reset_requests_sweep()

    # then
    assert swept == 1
    assert [message.to for message in mail.outbox] == [["ivy@example.com"]]
    assert list(PasswordResetRequest.objects.values_list("email", flat=True)) == ["nobody@example.com"]


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


@pytest.mark.django_db
def test_mail_job_retries_while_the_mail_server_is_away_and_a_swept_row_is_not_mailed_twice(
    api_client, user, settings, monkeypatch
):
    # given: a request whose job meets a mail server that refuses connections
    _ask(api_client, user.email)
    request_id = PasswordResetRequest.objects.get().pk
    settings.EMAIL_BACKEND = f"{__name__}._FailingBackend"
    retries = []
    monkeypatch.setattr(
        tasks.password_reset_mail_send,
        "retry",
        lambda exc, countdown: retries.append((type(exc).__name__, countdown)) or Retry(exc=exc, when=countdown),
    )

    # when: the job runs while the server is away
    with pytest.raises(Retry):
        tasks.password_reset_mail_send(request_id=request_id)

    # then: a retry within the first backoff step (5 s, jittered), the row kept, no token made
    [(error, countdown)] = retries
    assert error == "MailServerUnavailable" and 0 <= countdown <= 5
    assert PasswordResetRequest.objects.filter(pk=request_id).exists()
    assert PasswordResetToken.objects.count() == 0

    # when: the server is back, the sweep sends it first, then the job's retry runs
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    PasswordResetRequest.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    swept = tasks.password_reset_requests_sweep()
    retried = tasks.password_reset_mail_send(request_id=request_id)

    # then: one mail, by the sweep; the retry found nothing to send
    assert (swept, retried) == (1, False)
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert PasswordResetToken.objects.count() == 1


@pytest.mark.django_db
def test_a_broker_that_refuses_is_tried_once_by_the_request_not_for_seconds(
    api_client, user, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    import socket

    from kombu import Connection

    from common.jobs.app import celery_app

    # given: the service's app on a broker port where nothing listens, every connection attempt counted
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = celery_app()
    app.conf.update(broker_url=f"amqp://guest:guest@127.0.0.1:{port}//", task_always_eager=False)
    attempts = []
    establish = Connection._establish_connection
    monkeypatch.setattr(Connection, "_establish_connection", lambda self: attempts.append(1) or establish(self))
    app.set_current()
    try:
        # when
        with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
            response = _ask(api_client, user.email)
    finally:
        from config.celery import app as service_app

        service_app.set_current()
        service_app.set_default()
        app.close()

    # then: one attempt (kombu's default retries for the connect timeout, 4 s: 6 s per answer
    # measured, bench/forgot_password_timing.py), the row queued for the sweep, the same answer
    assert response.status_code == 200
    assert len(attempts) == 1
    assert PasswordResetRequest.objects.count() == 1
    [warning] = [r.getMessage() for r in caplog.records if r.name == "accounts.services"]
    assert warning.startswith(f"The reset mail job of request {PasswordResetRequest.objects.get().pk} was not queued")


class _SlowBackend(BaseEmailBackend):
    """A mail server that takes ``seconds`` of the (fake) clock per mail and then accepts it."""

    seconds = 20.0
    clock = [0.0]

    def send_messages(self, email_messages):
        type(self).clock[0] += type(self).seconds
        return mail.get_connection("django.core.mail.backends.locmem.EmailBackend").send_messages(email_messages)


@pytest.mark.django_db
def test_a_slow_mail_server_holds_the_sweep_for_its_time_budget_then_the_rest_waits_its_turn(
    api_client, settings, monkeypatch
):
    from .. import services

    # given: three registered users whose mail jobs were lost, a mail server taking 20 s a mail
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        UserFactory(email=email)
        _ask(api_client, email)
    PasswordResetRequest.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    settings.EMAIL_BACKEND = f"{__name__}._SlowBackend"
    monkeypatch.setattr(_SlowBackend, "clock", [0.0])
    monkeypatch.setattr(services, "monotonic", lambda: _SlowBackend.clock[0])
    monkeypatch.setattr(tasks, "monotonic", lambda: _SlowBackend.clock[0])
    resent = []
    monkeypatch.setattr(tasks.password_reset_requests_sweep, "apply_async", lambda **kwargs: resent.append(kwargs))

    # when
    swept = tasks.password_reset_requests_sweep()

    # then: the worker was held for the sweep's 30 s budget (mails at 0 s and 20 s), not for
    # every queued mail (the watchdogs wait behind it); the sweep queued itself behind the
    # jobs waiting meanwhile, and the last request stays queued for it
    assert swept == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.com", "b@example.com"]
    assert list(PasswordResetRequest.objects.values_list("email", flat=True)) == ["c@example.com"]
    assert resent == [{}]
