"""The back office's home in a real browser: each role's panels, their figures against the API's, their links.

Debian's Chromium driven by Playwright (tests/conftest.py's fixtures), against the
session's embedded local run. The figures are compared with what the API answers for the same
data, read just before and after the page (``settled``: the demo orders of a fresh run may still
be moving stock). Screenshots go beside the other back-office ones
(``<ERP_DATA_DIR>/screenshots/back-office/``); docs/back-office-home.png is the admin's.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from platforms import paused
from run import SERVICES
from test_back_office import ADMIN, FM, IM, api, sign_in
from test_local_run import _call, _login

EVERY_ROLE_S = ["reorder", "backorders", "stuck", "sales_chart", "receipts_chart", "replenishment", "stock_value"]
ADMIN_S = [*EVERY_ROLE_S[:3], "dead_letters", *EVERY_ROLE_S[3:]]


def signed_in_home(page, public: str, user: tuple[str, str]) -> None:
    """Sign in from the home's own link, then open the home (whatever page the sign-in came back to).

    The home needs only the single sign-on session, which the sign-in page opens; the auth admin's
    own sign-in, which the link goes through on its way back, may time out on a loaded machine.
    """
    page.goto(f"{public}/admin/")
    page.click("text=Sign in")
    sign_in(page, *user)
    page.goto(f"{public}/admin/")
    assert f"Signed in as {user[0]}" in page.inner_text("#who")


def open_admin_list(page, url: str) -> None:
    """Open an admin's list; once more if that admin's own sign-in timed out on the way (a loaded machine).

    An admin signs the browser in by itself on its first page (its OIDC callback asks auth_svc's token
    endpoint, within 5 s); refused, it lands on its ``/oidc/refused/`` page, and the next try signs in.
    """
    page.goto(url)
    if "/oidc/refused/" in page.url:
        page.goto(url)


def settled(read_api, read_page):
    """Return (the API's figures, the page's) read around one render, once nothing moved in between.

    The local run is shared and its demo orders may still be settling (stock received, issued):
    a page is compared with the API only when the API said the same before and after it.
    """
    for _ in range(5):
        before = read_api()
        shown = read_page()
        if read_api() == before:
            return before, shown
    pytest.fail("the figures kept moving")


def panels(page) -> list[str]:
    return [element.get_attribute("id").removeprefix("panel-") for element in page.query_selector_all("section.panel")]


def number(page, element_id: str) -> Decimal:
    return Decimal(page.inner_text(f"#{element_id}").replace(",", ""))


def admin_list_total(page) -> int:
    """The changelist's own count of what it lists (``12 items``), 0 when it lists nothing."""
    paginator = page.inner_text("#changelist-form .paginator")
    return int(re.search(r"(\d+) ", paginator).group(1))


def _meta_total(platform, path: str, user) -> int:
    status, body = _call("GET", f"{platform['gateway']}{path}&limit=1", token=_login(platform["gateway"], *user))
    assert status == 200, body
    return body["meta"]["total"]


def every_item(platform) -> list[dict]:
    token = _login(platform["gateway"], *IM)
    items, offset = [], 0
    while True:
        status, body = _call("GET", f"{platform['gateway']}/api/items?limit=100&offset={offset}", token=token)
        assert status == 200, body
        items += body["data"]
        offset += 100
        if offset >= body["meta"]["total"]:
            return items


@pytest.fixture
def low_item(platform):
    """An item of ours with 1 on hand and a reorder level of 40: at the top of the furthest below."""
    tag = uuid.uuid4().hex[:6]
    item = api(platform, "POST", "/api/items", {"sku": f"home-{tag}", "name": f"Home gauge {tag}", "unit_price": 3})
    api(platform, "PATCH", f"/api/items/{item['id']}", {"reorder_level": 10_000})
    api(platform, "PUT", f"/api/items/{item['id']}/stock", {"quantity": 1, "reason": "home test"})
    return item


def test_an_inventory_manager_s_home_shows_the_api_s_figures_and_links_to_the_filtered_lists(
    platform, new_page, shots, low_item
):
    public = platform["public"]
    page = new_page()

    def from_the_api():
        below = _meta_total(platform, "/api/items?below_reorder_level=true&active=true", IM)
        summary = api(platform, "GET", "/api/items/summary", as_user=IM)
        items = every_item(platform)
        return below, summary, sum(Decimal(str(i["quantity"])) * Decimal(str(i["unit_price"])) for i in items)

    # when
    signed_in_home(page, public, IM)
    (below, summary, value), _ = settled(from_the_api, lambda: page.goto(f"{public}/admin/"))
    shots(page, "19-home-inventory-manager")

    # then: every panel but the dead letters, with the API's figures
    assert panels(page) == EVERY_ROLE_S
    assert number(page, "reorder-count") == below == summary["below_reorder_level"]["count"]
    assert number(page, "backorder-units") == summary["backorders"]["units"]
    assert number(page, "backorder-orders") == summary["backorders"]["orders"]
    assert number(page, "stock-value") == value.quantize(Decimal("0.01"))
    assert page.inner_text("#panel-reorder tbody tr:first-child td:first-child") == low_item["sku"].upper()

    # when: the count followed
    open_admin_list(page, public + page.get_attribute("#reorder-count", "href"))

    # then: the items admin, filtered to the same items
    assert page.url == f"{public}/admin/inventory/inventory/item/?below_reorder_level=true&active__exact=1", page.url
    assert admin_list_total(page) == below
    shots(page, "20-home-reorder-list")


def test_a_finance_manager_s_home_charts_the_confirmed_orders_and_the_drafts_as_the_api_does(
    platform, browser, shots, low_item
):
    # given: an order confirmed today (the chart's last bar), and what the API says
    customer = api(
        platform, "POST", "/api/customers", {"name": "Home customer", "email": f"h-{low_item['sku']}@example.com"}
    )
    order = api(
        platform,
        "POST",
        "/api/sales/orders",
        {"customer_id": customer["id"], "items": [{"item_id": low_item["id"], "quantity": 1}]},
    )
    api(platform, "POST", f"/api/sales/orders/{order['id']}/confirm", as_user=FM)

    def from_the_api():
        return (
            api(platform, "GET", "/api/sales/orders/summary", as_user=FM),
            _meta_total(platform, "/api/purchase/orders?status=Draft&origin=replenishment", FM),
            api(platform, "GET", "/api/purchase/orders/summary", as_user=FM),
        )

    # ... in the dark theme: the chart takes the page's colours
    context = browser.new_context(viewport={"width": 1600, "height": 900}, color_scheme="dark")
    context.set_default_timeout(30_000)
    page = context.new_page()

    try:
        # when
        signed_in_home(page, platform["public"], FM)
        (sales, drafts, purchase), _ = settled(from_the_api, lambda: page.goto(f"{platform['public']}/admin/"))
        shots(page, "21-home-finance-manager-dark")

        # then
        assert panels(page) == EVERY_ROLE_S
        confirmed = sum(day["orders"] for day in sales["confirmed_per_day"])
        assert confirmed >= 1 and number(page, "sales-confirmed-total") == confirmed
        assert number(page, "stuck-count") == sales["stuck_pending"]["count"]
        assert number(page, "receipts-total") == sum(day["receipts"] for day in purchase["receipts_per_day"])
        assert number(page, "replenishment-count") == drafts == purchase["replenishment_drafts"]["count"]
        assert number(page, "replenishment-amount") == Decimal(str(purchase["replenishment_drafts"]["amount"]))
        # the chart: 30 bars, hidden from screen readers, whose table holds the same 30 days
        assert page.locator("#panel-sales_chart svg rect.bar").count() == 30
        assert page.get_attribute("#panel-sales_chart svg", "aria-hidden") == "true"
        table = page.locator("#sales-confirmed-table tbody tr").all_inner_texts()
        assert [row.split("\t")[0] for row in table] == [day["date"] for day in sales["confirmed_per_day"]]
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 18, 18)"

        # when: today's confirmations followed from the table
        today = sales["confirmed_per_day"][-1]
        # (the table is for screen readers, visually hidden: its link is followed as a screen reader would)
        open_admin_list(
            page, platform["public"] + page.get_attribute("#sales-confirmed-table tbody tr:last-child a", "href")
        )

        # then: the sales orders confirmed today
        assert "/admin/sales/sales/salesorder/?confirmed_at__gte=" in page.url
        assert admin_list_total(page) == today["orders"]
        shots(page, "22-home-confirmed-today-list")

        # when: the drafts followed
        page.goto(f"{platform['public']}/admin/")
        open_admin_list(page, platform["public"] + page.get_attribute("#replenishment-count", "href"))

        # then: the purchase orders admin, filtered to the open replenishment drafts
        assert "status__exact=Draft" in page.url and "origin__exact=replenishment" in page.url, page.url
        assert admin_list_total(page) == drafts
    finally:
        context.close()


def test_an_admin_s_home_adds_the_dead_letters_each_service_counts(platform, new_page, shots):
    # given: what each consuming service says of its dead letters (not routed by the gateway)
    token = _login(platform["gateway"], *ADMIN)
    counts = {}
    for service in ("inventory", "sales", "purchase"):
        port = platform["base"] + next(s.port_offset for s in SERVICES if s.name == service)
        status, body = _call("GET", f"http://127.0.0.1:{port}/events/dead-letters", token=token)
        assert status == 200, body
        counts[f"{service}_svc"] = body["data"]["dead_letters"]
    page = new_page()

    # when
    signed_in_home(page, platform["public"], ADMIN)
    shots(page, "23-home-admin")

    # then
    assert panels(page) == ADMIN_S
    rows = page.locator("#panel-dead_letters tbody tr").all_inner_texts()
    shown = {row.split("\t")[0]: row.split("\t")[2] for row in rows}
    assert shown == {name: "not counted yet" if count is None else str(count) for name, count in counts.items()}


def _web_processes(platform, service: str) -> list[int]:
    """The PIDs of ``service``'s web server: its gunicorn master and workers (forked: the same command line)."""
    port = platform["base"] + next(s.port_offset for s in SERVICES if s.name == service)
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if "gunicorn" in command and f"127.0.0.1:{port} " in command:
                    pids.append(int(entry.name))
    assert pids, f"no web server of {service} on {port}"
    return pids


def test_a_service_that_does_not_answer_leaves_its_panels_saying_so_and_the_rest_render(platform, new_page, shots):
    page = new_page()
    signed_in_home(page, platform["public"], IM)
    stuck = number(page, "stuck-count")

    # when: inventory_svc's web server stops answering
    with paused(_web_processes(platform, "inventory")):
        page.goto(f"{platform['public']}/admin/")
        shots(page, "24-home-inventory-not-answering")
        inventory_panels = {key: page.inner_text(f"#panel-{key}") for key in ("reorder", "backorders", "stock_value")}
        others = number(page, "stuck-count"), page.locator("#panel-sales_chart svg rect.bar").count()

    # then
    for key, text in inventory_panels.items():
        assert "inventory_svc does not answer just now; the other panels are current." in text, (key, text)
    assert others == (stuck, 30)
    # ... and once it answers again, so does its panel
    page.goto(f"{platform['public']}/admin/")
    assert page.locator("#reorder-count").count() == 1
