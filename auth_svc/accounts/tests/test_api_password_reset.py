"""POST /forgot-password and POST /reset-password: mailed, hashed, single-use, expiring tokens."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from ..models import PasswordResetToken
from ..services import password_reset_requests_process
from ..tokens import token_pair_for_user
from .factories import PASSWORD, UserFactory
from .helpers import error, field_errors

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-Passw0rd!"
SENT = {
    "status": 200,
    "message": "If an account with this email exists, a reset token has been sent to it.",
    "data": {"detail": "If an account with this email exists, a reset token has been sent to it."},
}
INVALID_TOKEN = field_errors(("reset_token", "Invalid or expired reset token."))


def forgot(client, email, **extra):
    """Ask for a reset, then let the mail worker handle the queue once (as send_reset_mails does)."""
    response = client.post("/forgot-password", {"email": email}, format="json", **extra)
    password_reset_requests_process()
    return response


def reset(client, token, password=NEW_PASSWORD):
    return client.post("/reset-password", {"reset_token": token, "new_password": password}, format="json")


def mailed_token() -> str:
    return re.search(r"^([A-Za-z0-9_-]{40,})$", mail.outbox[-1].body, re.MULTILINE).group(1)


def test_forgot_password_mails_a_token_never_shown_in_the_response(api_client, user):
    # when
    response = forgot(api_client, "IVY@example.com")

    # then
    assert response.status_code == 200
    assert response.json() == SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ivy@example.com"]
    assert message.subject == "Reset your ERP password"
    token = mailed_token()
    assert token.encode() not in response.content
    stored = PasswordResetToken.objects.get()
    assert stored.user == user
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert timedelta(minutes=59) < stored.expires_at - timezone.now() <= timedelta(hours=1)


@pytest.mark.parametrize("email", ["nobody@example.com", "gone@example.com"])
def test_forgot_password_answers_the_same_for_unknown_or_inactive_email(api_client, user, email):
    # given
    UserFactory(email="gone@example.com", is_active=False)
    known = forgot(api_client, user.email)
    mail.outbox.clear()

    # when
    response = forgot(api_client, email)

    # then
    assert response.status_code == known.status_code == 200
    assert response.content == known.content
    assert mail.outbox == []
    assert PasswordResetToken.objects.count() == 1


def test_forgot_password_survives_a_failing_mail_server(api_client, user, settings):
    # given
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1

    # when
    response = forgot(api_client, user.email)

    # then: the answer must not reveal that this email exists
    assert response.json() == SENT


def test_forgot_password_validates_the_email(api_client):
    # when
    response = forgot(api_client, "not-an-email")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(("email", "Enter a valid email address."))
    assert mail.outbox == []


def test_reset_password_sets_password_and_revokes_refresh_tokens(api_client, user):
    # given
    pair = token_pair_for_user(user=user)
    forgot(api_client, user.email)

    # when
    response = reset(api_client, mailed_token())

    # then
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "Password changed.", "data": {"detail": "Password changed."}}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert PasswordResetToken.objects.get().used_at is not None
    assert api_client.post("/refresh", {"refresh_token": pair.refresh_token}, format="json").status_code == 401
    login = api_client.post("/login", {"email": user.email, "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_reset_token_is_single_use(api_client, user):
    # given
    forgot(api_client, user.email)
    token = mailed_token()
    reset(api_client, token)

    # when
    response = reset(api_client, token, "Third-Passw0rd!")

    # then
    assert response.status_code == 400
    assert response.json() == INVALID_TOKEN
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_reset_token_expires_after_an_hour(api_client, user):
    # given
    forgot(api_client, user.email)
    token = mailed_token()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    PasswordResetToken.objects.update(created_at=an_hour_ago, expires_at=an_hour_ago + timedelta(hours=1))
    pair = token_pair_for_user(user=user)

    # when
    response = reset(api_client, token)

    # then
    assert response.status_code == 400
    assert response.json() == INVALID_TOKEN
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert PasswordResetToken.objects.get().used_at is None
    assert api_client.post("/refresh", {"refresh_token": pair.refresh_token}, format="json").status_code == 200


def test_reset_with_unknown_token_changes_nothing(api_client, user):
    # when
    response = reset(api_client, "made-up-token")

    # then
    assert response.status_code == 400
    assert response.json() == INVALID_TOKEN
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_reset_rejects_a_weak_password_and_keeps_the_token_usable(api_client, user):
    # given
    forgot(api_client, user.email)
    token = mailed_token()

    # when
    response = reset(api_client, token, "short")

    # then
    assert response.status_code == 400
    assert response.json() == field_errors(
        ("new_password", "This password is too short. It must contain at least 8 characters.")
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert PasswordResetToken.objects.get().used_at is None
    assert reset(api_client, token).status_code == 200


def test_a_new_reset_request_voids_the_previous_token(api_client, user):
    # given
    forgot(api_client, user.email)
    first = mailed_token()
    forgot(api_client, user.email)
    second = mailed_token()

    # when
    stale = reset(api_client, first)
    fresh = reset(api_client, second)

    # then
    assert stale.json() == INVALID_TOKEN
    assert fresh.status_code == 200


def test_reset_for_a_user_deactivated_since_is_refused(api_client, user):
    # given
    forgot(api_client, user.email)
    user.is_active = False
    user.save()

    # when
    response = reset(api_client, mailed_token())

    # then
    assert response.json() == INVALID_TOKEN
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_reset_password_ignores_a_stale_token_header(api_client, user):
    # given
    forgot(api_client, user.email)
    api_client.credentials(HTTP_AUTHORIZATION="Bearer stale")

    # when
    response = reset(api_client, mailed_token())

    # then
    assert response.status_code == 200


# ------------------------------------------------ forgot-password throttle


@pytest.fixture
def reset_limit(settings):
    settings.ACCOUNTS = {**settings.ACCOUNTS, "RESET_MAX_REQUESTS": 2, "RESET_WINDOW": 600}


def test_forgot_password_is_throttled_per_client_ip(api_client, user, reset_limit):
    # given: the limit used up from one IP, on emails known or not
    forgot(api_client, "nobody@example.com")
    forgot(api_client, "someone@example.com")
    mail.outbox.clear()

    # when
    response = forgot(api_client, user.email)

    # then
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 590 <= retry_after <= 600
    assert response.json() == error(
        429,
        "rate_limited",
        f"Too many password reset requests; try again later. Expected available in {retry_after} seconds.",
    )
    assert mail.outbox == []
    assert PasswordResetToken.objects.count() == 0


def test_forgot_password_is_throttled_per_email_across_ips(api_client, user, reset_limit):
    # given
    forgot(api_client, user.email, REMOTE_ADDR="10.0.0.1")
    forgot(api_client, user.email.upper(), REMOTE_ADDR="10.0.0.2")
    mail.outbox.clear()
    tokens_before = list(PasswordResetToken.objects.values_list("token_hash", flat=True))

    # when
    response = forgot(api_client, user.email, REMOTE_ADDR="10.0.0.3")

    # then
    assert response.status_code == 429
    assert mail.outbox == []
    assert list(PasswordResetToken.objects.values_list("token_hash", flat=True)) == tokens_before


def test_forgot_password_throttle_answers_the_same_for_unknown_and_known_email(api_client, user, reset_limit):
    # given
    for _ in range(2):
        forgot(api_client, user.email, REMOTE_ADDR="10.0.0.1")
        forgot(api_client, "nobody@example.com", REMOTE_ADDR="10.0.0.2")

    # when
    known = forgot(api_client, user.email, REMOTE_ADDR="10.0.0.1")
    unknown = forgot(api_client, "nobody@example.com", REMOTE_ADDR="10.0.0.2")

    # then
    assert known.status_code == unknown.status_code == 429
    assert known.json()["error"]["type"] == unknown.json()["error"]["type"] == "rate_limited"


def test_forgot_password_under_the_limit_is_unchanged(api_client, user, reset_limit):
    # when
    first = forgot(api_client, user.email)
    second = forgot(api_client, "nobody@example.com")

    # then
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(mail.outbox) == 1


def test_forgot_password_throttle_defaults_to_5_per_hour(settings):
    assert settings.ACCOUNTS["RESET_MAX_REQUESTS"] == 5
    assert settings.ACCOUNTS["RESET_WINDOW"] == 3600
