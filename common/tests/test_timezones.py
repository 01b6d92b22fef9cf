"""Dates in the admin in the staff member's time zone (session, else TIME_ZONE); the API in UTC always."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from common.roles import ADMIN
from common.settings import env as erp_env
from common.timezones import SESSION_KEY
from erp_testkit import issue_token
from erp_testkit.admin import staff_user
from tests.project.models import Gadget

pytestmark = pytest.mark.django_db

NEW_YEAR = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def gadget():
    gadget = Gadget.objects.create(name="dated")
    Gadget.objects.filter(pk=gadget.pk).update(created_at=NEW_YEAR)
    return gadget


def _signed_in(client, zone: object | None = None):
    client.force_login(staff_user(ADMIN))
    if zone is not None:
        session = client.session
        session[SESSION_KEY] = zone
        session.save()
    return client


def _listed_date(client) -> str:
    response = client.get("/admin/project/gadget/")
    assert response.status_code == 200
    content = response.content.decode()
    start = content.index('<td class="field-created_at nowrap">') + len('<td class="field-created_at nowrap">')
    return content[start : content.index("</td>", start)]


def test_the_admin_shows_dates_in_the_zone_of_the_session(gadget):
    assert _listed_date(_signed_in(Client(), "Asia/Tokyo")) == "Jan. 1, 2026, 9 a.m."


def test_without_a_zone_in_the_session_the_admin_uses_time_zone(gadget, settings):
    # given
    settings.TIME_ZONE = "America/New_York"

    # then
    assert _listed_date(_signed_in(Client())) == "Dec. 31, 2025, 7 p.m."


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", 42])
def test_a_session_zone_that_is_no_zone_falls_back_to_time_zone(gadget, settings, zone):
    # given
    settings.TIME_ZONE = "America/New_York"

    # then
    assert _listed_date(_signed_in(Client(), zone)) == "Dec. 31, 2025, 7 p.m."


def test_the_api_answers_in_utc_whatever_the_session_or_time_zone_say(gadget, settings):
    # given: a browser signed in to the admin (session zone) calling the API, TIME_ZONE elsewhere
    settings.TIME_ZONE = "Asia/Tokyo"
    client = _signed_in(APIClient(), "America/New_York")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(role='admin')}")

    # when
    response = client.get("/gadgets")

    # then
    assert response.status_code == 200
    assert [row["created_at"] for row in response.json()["data"]] == ["2026-01-01T00:00:00Z"]


def test_time_zone_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("DJANGO_TIME_ZONE", raising=False)
    assert erp_env.time_zone() == "UTC"

    monkeypatch.setenv("DJANGO_TIME_ZONE", "Europe/Berlin")
    assert erp_env.time_zone() == "Europe/Berlin"


def test_an_unknown_time_zone_stops_with_its_name(monkeypatch):
    monkeypatch.setenv("DJANGO_TIME_ZONE", "Europe/Atlantis")

    with pytest.raises(ImproperlyConfigured, match=r"DJANGO_TIME_ZONE must be an IANA time zone .* 'Europe/Atlantis'"):
        erp_env.time_zone()
