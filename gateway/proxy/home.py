"""The back office's home: the figures staff check each morning, on the index at ``/admin/`` (docs/back-office.md).

Every figure comes from the service that owns it, read through its API with the signed-in
person's own rights: auth_svc hands the gateway a one-minute access token of whoever holds the
browser's single sign-on session (``POST /sso/session/token``, the gateway's proof required),
scoped to the summaries (any other endpoint refuses it), and the gateway asks each service's
small read-only summary endpoint with it (contract §5),
all at once. A panel is shown only to a role the matrix lets read its figures (common.roles);
the service checks the token again. Nothing is cached: each page is the services' answer now.
A service that does not answer in ``GATEWAY_HEALTH_TIMEOUT`` (or answers nonsense) leaves its
panels saying so; the rest of the page renders.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util import Timeout

from common.roles import role_has_permission
from common.sso.conf import admin_session_cookie

from . import charts
from . import credential as gateway_credential
from .proxy import upstream_for

logger = logging.getLogger(__name__)

# The consuming services, each with its own dead-letter queue.
CONSUMERS = ("inventory", "sales", "purchase")
SERVICE_NAMES = {service: f"{service}_svc" for service in ("auth", *CONSUMERS)}
# At most one request per summary at once, for every page being rendered (a gevent worker's
# threads are greenlets): the services' answers, not the gateway, bound the page's time.
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="home")


@dataclass(frozen=True)
class Person:
    """Who holds the browser's single sign-on session, and the short-lived token to read with their rights."""

    email: str
    role: str
    token: str


@dataclass(frozen=True)
class Source:
    """One summary endpoint: which service answers it, where, and the permission its figures need."""

    service: str
    path: str
    permission: str


SOURCES = {
    "stock": Source("inventory", "/items/summary", "stock.read"),
    "sales": Source("sales", "/orders/summary", "orders.read"),
    "purchase": Source("purchase", "/orders/summary", "orders.read"),
    **{f"dead_letters_{service}": Source(service, "/events/dead-letters", "events.read") for service in CONSUMERS},
}


@dataclass
class Panel:
    """One panel of the home: its template, the sources it reads, and what it shows (or why it cannot)."""

    key: str
    title: str
    sources: tuple[str, ...]
    figures: dict[str, Any] = field(default_factory=dict)
    problem: str = ""


class SourceDown(Exception):
    """A summary could not be read: the panel says why."""


def session_data(request: HttpRequest, method: str, path: str, **headers: str) -> dict | None:
    """Ask auth_svc about the browser's single sign-on session (its cookie alone); return the answer's data, or None.

    None when there is no session cookie, when auth_svc refuses (nobody signed in) or cannot be
    reached in time, or answers something else than data.
    """
    name = admin_session_cookie("auth")
    value = request.COOKIES.get(name)
    if not value:
        return None
    jar = SimpleCookie()
    jar[name] = value
    headers = {"Cookie": jar[name].OutputString(), "X-Request-ID": request.request_id, **headers}
    try:
        answer = upstream_for(settings.GATEWAY["UPSTREAMS"]["auth"]).request(
            method, path, body=b"" if method == "POST" else None, headers=headers, timeout=_timeout()
        )
    except urllib3_exceptions.HTTPError:
        logger.warning("auth_svc could not say who holds a single sign-on session (%s)", path)
        return None
    if answer.status != 200:
        return None
    try:
        data = json.loads(answer.data)["data"]
    except (ValueError, KeyError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def person_of(request: HttpRequest) -> Person | None:
    """Return the person holding the browser's single sign-on session with a token of theirs, or None.

    None also when auth_svc cannot say (away, or the gateway holds no proof of itself yet): the
    index then falls back to naming who is signed in (back_office.signed_in), without figures.
    """
    proof = gateway_credential.credential.get()
    if not proof:
        return None
    data = session_data(request, "POST", "/sso/session/token", **{"X-Gateway-Token": proof})
    try:
        return Person(email=str(data["email"]), role=str(data["role"]), token=str(data["access_token"]))
    except (KeyError, TypeError):
        return None


def home_panels(person: Person, *, request_id: str) -> list[Panel]:
    """Return the panels ``person``'s role may see, filled from their sources (read at once, in parallel)."""
    panels = [panel for panel in _panels() if _may_see(person.role, panel)]
    wanted = sorted({source for panel in panels for source in panel.sources})
    answers = dict(zip(wanted, _pool.map(lambda key: _read(key, person, request_id), wanted), strict=True))
    for panel in panels:
        failed = [answers[source] for source in panel.sources if isinstance(answers[source], SourceDown)]
        if failed:
            panel.problem = " ".join(dict.fromkeys(str(problem) for problem in failed))
            continue
        try:
            panel.figures = FILLERS[panel.key](*(answers[source] for source in panel.sources))
        except (KeyError, TypeError, ValueError, AttributeError):  # valid JSON, but not the summary the contract says
            names = dict.fromkeys(SERVICE_NAMES[SOURCES[source].service] for source in panel.sources)
            panel.problem = f"{', '.join(names)} answered something that is not its summary."
    return panels


def _panels() -> list[Panel]:
    return [
        Panel("reorder", "Items at or below their reorder level", ("stock",)),
        Panel("backorders", "Backordered demand", ("stock",)),
        Panel("stuck", "Sales orders stuck pending", ("sales",)),
        Panel("dead_letters", "Dead-lettered events", tuple(f"dead_letters_{service}" for service in CONSUMERS)),
        Panel("sales_chart", "Sales orders confirmed per day", ("sales",)),
        Panel("receipts_chart", "Purchase receipts per day", ("purchase",)),
        Panel("replenishment", "Open replenishment drafts by vendor", ("purchase",)),
        Panel("stock_value", "Stock value on hand", ("stock",)),
    ]


def _may_see(role: str, panel: Panel) -> bool:
    return all(role_has_permission(role, SOURCES[source].permission) for source in panel.sources)


def _timeout() -> Timeout:
    return Timeout(connect=settings.GATEWAY["CONNECT_TIMEOUT"], read=settings.GATEWAY["HEALTH_TIMEOUT"])


def _read(key: str, person: Person, request_id: str) -> dict | SourceDown:
    """Return the summary's ``data``, or the :class:`SourceDown` its panel shows."""
    source = SOURCES[key]
    name = SERVICE_NAMES[source.service]
    headers = {"Authorization": f"Bearer {person.token}", "Accept": "application/json", "X-Request-ID": request_id}
    try:
        answer = upstream_for(settings.GATEWAY["UPSTREAMS"][source.service]).request(
            "GET", source.path, body=None, headers=headers, timeout=_timeout()
        )
    except urllib3_exceptions.HTTPError as exc:
        logger.warning("%s did not answer %s for the back office's home: %s", name, source.path, type(exc).__name__)
        return SourceDown(f"{name} does not answer just now; the other panels are current.")
    if answer.status != 200:
        logger.warning("%s answered %s to %s for the back office's home", name, answer.status, source.path)
        return SourceDown(f"{name} could not give these figures just now (HTTP {answer.status}).")
    try:
        return json.loads(answer.data, parse_float=Decimal)["data"]
    except (ValueError, KeyError, TypeError):
        return SourceDown(f"{name} answered something that is not its summary.")


# Where each figure's admin list is (the gateway's mount points, docs/back-office.md).
ITEMS = "/admin/inventory/inventory/item/"
BACKORDERS = "/admin/inventory/inventory/backorder/"
SALES_ORDERS = "/admin/sales/sales/salesorder/"
PURCHASE_ORDERS = "/admin/purchase/purchasing/purchaseorder/"
PURCHASE_RECEIPTS = "/admin/purchase/purchasing/purchasereceipt/"
# Each consuming service's list of its dead letters (common.events.admin), beside its inbox.
DEAD_LETTERS = "/admin/{service}/events/inboxevent/dead-letters/"


def _list(base: str, **filters: str) -> str:
    return f"{base}?{urlencode(filters)}" if filters else base


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _reorder(stock: dict) -> dict:
    below = stock["below_reorder_level"]
    return {
        "count": below["count"],
        "url": _list(ITEMS, below_reorder_level="true", active__exact="1"),
        "rows": [{**row, "url": f"{ITEMS}{row['id']}/change/"} for row in below["furthest_below"]],
    }


def _backorders(stock: dict) -> dict:
    waiting = stock["backorders"]
    return {
        "units": waiting["units"],
        "orders": waiting["orders"],
        "url": BACKORDERS,
        "rows": [
            {**row, "confirmed_at": _moment(row["confirmed_at"]), "url": _list(BACKORDERS, q=row["order_id"])}
            for row in waiting["oldest"]
        ],
    }


def _stuck(sales: dict) -> dict:
    stuck = sales["stuck_pending"]
    return {
        "count": stuck["count"],
        "minutes": round(float(stuck["older_than_seconds"]) / 60, 1),
        "url": _list(SALES_ORDERS, stuck="pending"),
        "rows": [
            {**row, "confirmed_at": _moment(row["confirmed_at"]), "url": f"{SALES_ORDERS}{row['id']}/change/"}
            for row in stuck["oldest"]
        ],
    }


def _dead_letters(*answers: dict) -> dict:
    rows = [
        {"service": SERVICE_NAMES[service], "url": DEAD_LETTERS.format(service=service), **answer}
        for service, answer in zip(CONSUMERS, answers, strict=True)
    ]
    known = [row["dead_letters"] for row in rows if row["dead_letters"] is not None]
    return {"total": sum(known), "rows": rows, "all_known": len(known) == len(rows)}


def _per_day(days: list[dict], *, count: str, url_of) -> dict:
    points = [(dt.date.fromisoformat(day["date"]), day[count]) for day in days]
    rows = [{**day, "date": point[0], "url": url_of(point[0])} for day, point in zip(days, points, strict=True)]
    return {"total": sum(value for _, value in points), "chart": charts.bar_chart(points), "rows": rows}


def _day_list(base: str, field: str):
    """Return the function giving the admin list of ``base`` filtered to one UTC day of ``field``."""

    def url_of(day: dt.date) -> str:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        end = start + dt.timedelta(days=1)
        return _list(base, **{f"{field}__gte": start.isoformat(), f"{field}__lt": end.isoformat()})

    return url_of


def _since_list(base: str, field: str, days: list[dict]) -> str:
    """The admin list of ``base`` filtered from the first of ``days`` (UTC midnight) on: what the chart adds up."""
    since = dt.datetime.combine(dt.date.fromisoformat(days[0]["date"]), dt.time.min, tzinfo=dt.UTC)
    return _list(base, **{f"{field}__gte": since.isoformat()})


def _sales_chart(sales: dict) -> dict:
    days = sales["confirmed_per_day"]
    return {
        **_per_day(days, count="orders", url_of=_day_list(SALES_ORDERS, "confirmed_at")),
        "amount": sum(day["amount"] for day in days),
        "url": _since_list(SALES_ORDERS, "confirmed_at", days),
    }


def _receipts_chart(purchase: dict) -> dict:
    days = purchase["receipts_per_day"]
    return {
        **_per_day(days, count="receipts", url_of=_day_list(PURCHASE_RECEIPTS, "created_at")),
        "units": sum(day["units"] for day in days),
        "url": _since_list(PURCHASE_RECEIPTS, "created_at", days),
    }


def _replenishment(purchase: dict) -> dict:
    drafts = purchase["replenishment_drafts"]
    open_drafts = {"status__exact": "Draft", "origin__exact": "replenishment"}
    return {
        "count": drafts["count"],
        "amount": drafts["amount"],
        "url": _list(PURCHASE_ORDERS, **open_drafts),
        "rows": [
            {
                **row,
                "url": f"{PURCHASE_ORDERS}{row['id']}/change/",
                "vendor_url": _list(PURCHASE_ORDERS, **open_drafts, vendor_id=row["vendor_id"]),
            }
            for row in drafts["largest"]
        ],
    }


def _stock_value(stock: dict) -> dict:
    return {"value": stock["stock_value"], "url": ITEMS}


FILLERS = {
    "reorder": _reorder,
    "backorders": _backorders,
    "stuck": _stuck,
    "dead_letters": _dead_letters,
    "sales_chart": _sales_chart,
    "receipts_chart": _receipts_chart,
    "replenishment": _replenishment,
    "stock_value": _stock_value,
}
