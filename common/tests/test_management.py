"""The ensure_superuser command."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command


def _run() -> str:
    out = StringIO()
    call_command("ensure_superuser", stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_creates_the_superuser_once(monkeypatch):
    # given
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery")

    # when
    first, second = _run(), _run()

    # then
    assert first == "superuser admin@example.com: created"
    assert second == "superuser admin@example.com: already there"
    [user] = get_user_model().objects.all()
    assert (user.username, user.email, user.is_staff, user.is_superuser) == (
        "admin@example.com",
        "admin@example.com",
        True,
        True,
    )
    assert user.check_password("correct horse battery")


@pytest.mark.django_db
def test_an_existing_password_is_left_alone(monkeypatch):
    # given
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "first password")
    _run()

    # when
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "second password")
    _run()

    # then
    assert get_user_model().objects.get().check_password("first password")


@pytest.mark.django_db
def test_missing_credentials_stop_with_a_message(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    with pytest.raises(CommandError, match=r"^Set DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD\.$"):
        _run()

    assert get_user_model().objects.count() == 0
