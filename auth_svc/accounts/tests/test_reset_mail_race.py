"""The mail job and the sweep at the same request at the same moment: one mail, whichever locks first.

Real threads, each with its own PostgreSQL connection: the first side is paused after its
mail left, before its commit (row locked, still there); the other runs meanwhile. SQLite
has no row locks (its IMMEDIATE transactions serialise the two instead): PostgreSQL only.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from erp_testkit.concurrency import Worker, paused_after

from .. import services, tasks
from ..models import PasswordResetRequest, PasswordResetToken
from .factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql")]


@pytest.fixture
def lost_request(settings):
    """A registered user's reset request old enough for the sweep: its id."""
    settings.ACCOUNTS = {**settings.ACCOUNTS, "RESET_MAIL_SWEEP_AGE_SECONDS": 300}
    UserFactory(email="ivy@example.com")
    request = PasswordResetRequest.objects.create(email="ivy@example.com")
    PasswordResetRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    return request.pk


@pytest.mark.parametrize("first", ["job", "sweep"])
def test_job_and_sweep_racing_on_one_request_send_one_mail(monkeypatch, lost_request, first):
    # given: one side has sent the mail and holds the row, uncommitted
    reached, release = paused_after(monkeypatch, services, "_password_reset_mail")
    job = lambda: tasks.password_reset_mail_send(request_id=lost_request)  # noqa: E731
    sweep = tasks.password_reset_requests_sweep
    holder = Worker(job if first == "job" else sweep)
    holder.start()
    assert reached.wait(10)

    # when: the other runs meanwhile, then the first commits
    other = Worker(sweep if first == "job" else job)
    other.start()
    other.join(10)
    finished_while_held = not other.is_alive()
    release.set()
    holder.join(10)

    # then: the other skipped the locked row at once, nothing sent twice, the row gone
    assert (holder.error, other.error) == (None, None)
    assert finished_while_held
    assert (holder.result, other.result) == ((True, 0) if first == "job" else (1, False))
    assert [message.to for message in mail.outbox] == [["ivy@example.com"]]
    assert PasswordResetToken.objects.count() == 1
    assert PasswordResetRequest.objects.count() == 0
