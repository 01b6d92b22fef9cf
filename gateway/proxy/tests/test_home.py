"""The back office's home at /admin/: each role's panels, read from the services with the person's own token."""

from __future__ import annotations

import datetime as dt
import json
import re

import jwt
import pytest
from django.test import Client

from .conftest import closed_port_url

TODAY = dt.datetime.now(dt.UTC).date()
DAYS = [TODAY - dt.timedelta(days=29 - offset) for offset in range(30)]
ITEM_ID = "5b1d3c1e-8f0a-4c3e-9a57-0e6f5d4c3b2a"
ORDER_ID = "7c2e4d2f-9a1b-4d4f-8b68-1f7e6a5d4c3b"
DRAFT_ID = "8d3f5e3a-0b2c-4e5a-9c79-2a8f7b6e5d4c"
VENDOR_ID = "9e4a6f4b-1c3d-4f6b-8d8a-3b9a8c7f6e5d"

STOCK = {
    "below_reorder_level": {
        "count": 12,
        "furthest_below": [
            {"id": ITEM_ID, "sku": "BOLT-M8", "name": "Bolt <M8>", "quantity": 1, "reorder_level": 40, "shortfall": 39}
        ],
    },
    "backorders": {
        "units": 17,
        "orders": 3,
        "oldest": [{"order_id": ORDER_ID, "confirmed_at": "2026-12-01T09:01:00Z", "units": 9, "items": 2}],
    },
    "stock_value": 123456.5,
}
SALES = {
    "stuck_pending": {
        "count": 2,
        "older_than_seconds": 300.0,
        "oldest": [
            {
                "id": ORDER_ID,
                "customer_name": "Acme Retail",
                "confirmed_at": "2026-12-01T08:00:00Z",
                "total_amount": 99.5,
            }
        ],
    },
    "confirmed_per_day": [
        {"date": str(day), "orders": index, "amount": index * 10.0} for index, day in enumerate(DAYS)
    ],
}
PURCHASE = {
    "receipts_per_day": [{"date": str(day), "receipts": 1, "units": 5} for day in DAYS],
    "replenishment_drafts": {
        "count": 4,
        "amount": 2500.0,
        "largest": [
            {
                "id": DRAFT_ID,
                "vendor_id": VENDOR_ID,
                "vendor_name": "Zenith Supply",
                "lines_count": 3,
                "total_amount": 1500.0,
                "created_at": "2026-12-05T07:00:00Z",
            }
        ],
    },
}


@pytest.fixture
def services(upstreams, gateway_credential):
    """Every service answering its summary (and its dead letters: 2 in sales', none elsewhere)."""
    upstreams["inventory"].canned["/items/summary"] = STOCK
    upstreams["sales"].canned["/orders/summary"] = SALES
    upstreams["purchase"].canned["/orders/summary"] = PURCHASE
    for service, count in (("inventory", 0), ("sales", 2), ("purchase", 0)):
        upstreams[service].canned["/events/dead-letters"] = {"queue": f"{service}.events.dlq", "dead_letters": count}
    return upstreams


def home(session: str) -> tuple[int, str]:
    response = Client().get("/admin/", HTTP_COOKIE=f"auth_admin_session={session}")
    return response.status_code, response.content.decode()


def panels(page: str) -> list[str]:
    return re.findall(r'<section class="panel[^"]*" id="panel-([a-z_]+)"', page)


def figure(page: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page).group(1)


ALL_BUT_DEAD_LETTERS = [
    "reorder",
    "backorders",
    "stuck",
    "sales_chart",
    "receipts_chart",
    "replenishment",
    "stock_value",
]


def test_an_inventory_manager_sees_every_panel_but_the_dead_letters_with_the_services_figures(services):
    # when
    status, page = home("good")

    # then
    assert status == 200
    assert "Signed in as <strong>ivy@example.com</strong> (inventory manager)" in page
    assert panels(page) == ALL_BUT_DEAD_LETTERS
    assert (figure(page, "reorder-count"), figure(page, "backorder-units"), figure(page, "backorder-orders")) == (
        "12",
        "17",
        "3",
    )
    assert (figure(page, "stuck-count"), figure(page, "sales-confirmed-total"), figure(page, "receipts-total")) == (
        "2",
        str(sum(range(30))),
        "30",
    )
    assert (figure(page, "replenishment-count"), figure(page, "replenishment-amount")) == ("4", "2,500.00")
    assert figure(page, "stock-value") == "123,456.50"
    # a service's text is escaped, never markup
    assert "Bolt &lt;M8&gt;" in page and "Bolt <M8>" not in page


def test_each_number_links_to_the_filtered_admin_list_it_counts(services):
    # when
    _, page = home("good")

    # then
    def link(element_id: str) -> str:
        return re.search(rf'href="([^"]+)" id="{element_id}"|id="{element_id}" href="([^"]+)"', page).group(2)

    assert link("reorder-count") == "/admin/inventory/inventory/item/?below_reorder_level=true&amp;active__exact=1"
    assert link("backorder-units") == "/admin/inventory/inventory/backorder/"
    assert link("stuck-count") == "/admin/sales/sales/salesorder/?stuck=pending"
    assert link("replenishment-count") == (
        "/admin/purchase/purchasing/purchaseorder/?status__exact=Draft&amp;origin__exact=replenishment"
    )
    assert link("sales-confirmed-total") == (
        f"/admin/sales/sales/salesorder/?confirmed_at__gte={DAYS[0].isoformat()}T00%3A00%3A00%2B00%3A00"
    )
    assert link("receipts-total") == (
        f"/admin/purchase/purchasing/purchasereceipt/?created_at__gte={DAYS[0].isoformat()}T00%3A00%3A00%2B00%3A00"
    )
    # each day of each chart's table: that day's list (UTC)
    for base, field in (
        ("sales/sales/salesorder", "confirmed_at"),
        ("purchase/purchasing/purchasereceipt", "created_at"),
    ):
        day, after = DAYS[-1].isoformat(), (DAYS[-1] + dt.timedelta(days=1)).isoformat()
        assert (
            f'href="/admin/{base}/?{field}__gte={day}T00%3A00%3A00%2B00%3A00&amp;{field}__lt={after}T00%3A00%3A00%2B00%3A00"'
            in page
        )
    assert f'href="/admin/inventory/inventory/item/{ITEM_ID}/change/"' in page
    assert f'href="/admin/inventory/inventory/backorder/?q={ORDER_ID}"' in page
    assert (
        f'href="/admin/purchase/purchasing/purchaseorder/?status__exact=Draft&amp;origin__exact=replenishment&amp;vendor_id={VENDOR_ID}"'
        in page
    )


def test_the_services_are_asked_with_the_person_s_own_token_once_each(services):
    # when
    home("fm")

    # then: auth handed the gateway Fred's token (the gateway proving itself), and each service got it
    [exchange] = [r for r in services["auth"].received if r.target != "/service-token"]
    assert (exchange.method, exchange.target, exchange.header("Cookie")) == (
        "POST",
        "/sso/session/token",
        "auth_admin_session=fm",
    )
    assert exchange.header("X-Gateway-Token")
    asked = {(name, r.target) for name in ("inventory", "sales", "purchase") for r in services[name].received}
    assert asked == {("inventory", "/items/summary"), ("sales", "/orders/summary"), ("purchase", "/orders/summary")}
    for name in ("inventory", "sales", "purchase"):
        [request] = services[name].received
        claims = jwt.decode(
            request.header("Authorization").removeprefix("Bearer "), options={"verify_signature": False}
        )
        assert (claims["email"], claims["role"]) == ("fred@example.com", "finance_manager")


def test_an_admin_sees_the_dead_letters_too(services):
    # when
    _, page = home("admin")

    # then
    assert panels(page) == [*ALL_BUT_DEAD_LETTERS[:3], "dead_letters", *ALL_BUT_DEAD_LETTERS[3:]]
    assert figure(page, "dead-letters-total") == "2"
    assert "sales.events.dlq" in page
    # each service's count links to its list of dead letters
    for service, count in (("inventory", 0), ("sales", 2), ("purchase", 0)):
        assert f'<a href="/admin/{service}/events/inboxevent/dead-letters/">{count}</a>' in page
    assert {r.target for r in services["sales"].received} == {"/orders/summary", "/events/dead-letters"}


def test_a_service_that_does_not_answer_leaves_its_panels_saying_so_and_the_rest_render(services, settings):
    # given: inventory_svc is down
    settings.GATEWAY = {
        **settings.GATEWAY,
        "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "inventory": closed_port_url()},
    }

    # when
    status, page = home("good")

    # then
    assert status == 200
    assert panels(page) == ALL_BUT_DEAD_LETTERS
    down = "inventory_svc does not answer just now; the other panels are current."
    for key in ("reorder", "backorders", "stock_value"):
        section = re.search(rf'id="panel-{key}".*?</section>', page, re.S).group(0)
        assert down in section
    assert figure(page, "stuck-count") == "2" and figure(page, "replenishment-count") == "4"


def test_a_summary_that_is_not_one_is_said_so(services):
    # given: purchase answers with something else (the fake's echo)
    services["purchase"].canned.clear()

    # when
    _, page = home("good")

    # then
    section = re.search(r'id="panel-replenishment".*?</section>', page, re.S).group(0)
    assert "purchase_svc answered something that is not its summary." in section
    assert figure(page, "reorder-count") == "12"


def test_without_the_gateway_s_proof_the_index_names_the_person_and_shows_no_figures(upstreams):
    # when: no service secret, so no proof of the gateway's own (the session lookup alone)
    status, page = home("good")

    # then
    assert status == 200
    assert "Signed in as <strong>ivy@example.com</strong>" in page
    assert panels(page) == [] and 'id="no-figures"' in page
    assert [r.target for r in upstreams["auth"].received] == ["/sso/session"]
    assert not any(upstreams[name].received for name in ("inventory", "sales", "purchase"))


def test_nobody_signed_in_gets_no_figures_and_no_service_is_asked(services):
    # when
    status, page = home("stale")

    # then
    assert status == 200 and "Not signed in" in page and panels(page) == []
    assert not any(services[name].received for name in ("inventory", "sales", "purchase"))


def test_each_chart_is_an_inline_svg_with_its_numbers_in_a_table(services):
    # when
    _, page = home("good")

    # then: 30 bars, nothing fetched from elsewhere, the table of the same 30 days for screen readers
    section = re.search(r'id="panel-sales_chart".*?</section>', page, re.S).group(0)
    svg = re.search(r"<svg .*?</svg>", section, re.S).group(0)
    assert 'aria-hidden="true"' in svg and len(re.findall(r'<rect class="bar"', svg)) == 30
    assert "http" not in svg and "<script" not in page
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td class=\"number\"><a href=\"[^\"]+\">(\d+)</a>", section)
    assert rows == [(str(day), str(index)) for index, day in enumerate(DAYS)]


# The front page


def test_a_browser_gets_the_front_page_with_the_platform_s_links():
    # when
    response = Client().get("/", HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")

    # then
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert response["Vary"] == "Accept"
    page = response.content.decode()
    assert "<h1>ERP order platform</h1>" in page
    for path in ("/api/docs/", "/api/redoc/", "/admin/", "/health"):
        assert f'href="{path}"' in page


@pytest.mark.parametrize("accept", ["application/json", "application/json, text/plain;q=0.5"])
def test_an_api_client_asking_for_json_gets_a_json_index(accept):
    # when
    response = Client().get("/", HTTP_ACCEPT=accept)

    # then
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": 200,
        "message": "OK",
        "data": {
            "name": "ERP order platform",
            "links": {
                "api_docs": "/api/docs/",
                "api_redoc": "/api/redoc/",
                "api_schema": "/api/schema/",
                "back_office": "/admin/",
                "health": "/health",
            },
        },
    }


def test_the_front_page_takes_no_post():
    response = Client().post("/")
    assert response.status_code == 405 and response.json()["error"]["type"] == "method_not_allowed"
