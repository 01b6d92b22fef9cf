"""The back office in a real browser, through the gateway's /admin/, against the local run's processes.

Debian's Chromium (``/usr/bin/chromium``, installed by ``scripts/test.sh``) driven by
Playwright for Python; Playwright never downloads a browser of its own. The session's embedded
local run serves the module (SQLite, filesystem broker; tests/platforms.py), which re-checks an
admin session every few seconds so that a deactivation is seen quickly; a user these tests lock
out or deactivate is one they registered. A screenshot of each step goes to
``<ERP_DATA_DIR>/screenshots/back-office/`` (the test command's data dir).
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from platforms import SSO_RECHECK_SECONDS as RECHECK_SECONDS
from test_local_run import ADMIN_USER, FM_USER, IM_USER, _call, _login, _register, eventually

IM, FM, ADMIN = IM_USER, FM_USER, ADMIN_USER
RECEIPT_LABEL = "Purchase receipt"  # the ledger's label of reason purchase_receipt


def sign_in(page, email: str, password: str) -> None:
    """Fill auth_svc's sign-in page (where any admin sends a browser without a session)."""
    assert "/admin/auth/sso/signin/" in page.url, page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")


def run_action(page, action: str, object_id: str) -> str:
    """Tick one row of a changelist, run ``action``, return the admin's messages."""
    page.check(f"input[name=_selected_action][value='{object_id}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    return page.inner_text("ul.messagelist")


def api(platform, method: str, path: str, body=None, *, as_user=IM, expected=(200, 201)):
    status, answer = _call(method, f"{platform['gateway']}{path}", body, token=_login(platform["gateway"], *as_user))
    assert status in expected, (path, status, answer)
    return answer.get("data")


@pytest.fixture
def item(platform):
    tag = uuid.uuid4().hex[:6]
    return api(
        platform, "POST", "/api/items", {"sku": f"bo-{tag}", "name": f"Back-office widget {tag}", "unit_price": 7.5}
    )


# kind -> (the party's API collection, its field on an order)
PARTIES = {"purchase": ("vendors", "vendor_id"), "sales": ("customers", "customer_id")}


def draft_order(platform, kind: str, item: dict, *, quantity: int, **line) -> dict:
    """Create a vendor or customer and a draft purchase or sales order of ``item`` through the API."""
    collection, field = PARTIES[kind]
    party = {"name": f"Back-office {collection[:-1]}", "email": f"{kind}-{item['sku']}@example.com"}
    created = api(platform, "POST", f"/api/{collection}", party)
    lines = [{"item_id": item["id"], "quantity": quantity, **line}]
    return api(platform, "POST", f"/api/{kind}/orders", {field: created["id"], "items": lines})


def stock(platform, item_id: str) -> int:
    return api(platform, "GET", f"/api/items/{item_id}/stock")["quantity"]


def test_an_inventory_manager_signs_in_once_adjusts_stock_and_receives_an_order(platform, new_page, shots, item):
    public = platform["public"]
    page = new_page()

    # given: the back office's index, nobody signed in
    page.goto(f"{public}/admin/")
    assert "Not signed in" in page.inner_text("#who")
    shots(page, "01-index-signed-out")

    # when: the inventory admin, once through the sign-in page
    page.click("a[href='/admin/inventory/']")
    shots(page, "02-sign-in-page")
    sign_in(page, *IM)

    # then: the inventory admin, and then the purchase and contact admins without a password
    assert page.url == f"{public}/admin/inventory/"
    assert IM[0] in page.inner_text("#user-tools").lower()
    shots(page, "03-inventory-admin")
    for service, heading in (("purchase", "Purchase orders"), ("contact", "Customers")):
        page.goto(f"{public}/admin/{service}/")
        assert page.url == f"{public}/admin/{service}/", page.url
        assert heading in page.inner_text("#content-main")
        shots(page, f"04-{service}-admin-no-password")
    page.goto(f"{public}/admin/")
    assert f"Signed in as {IM[0]} (inventory manager)" in page.inner_text("#who")
    shots(page, "05-index-signed-in")

    # when: stock adjusted by hand, with a reason
    page.goto(f"{public}/admin/inventory/inventory/item/?q={item['sku']}")
    page.check(f"input[name=_selected_action][value='{item['id']}']")
    page.select_option("select[name=action]", "adjust_stock")
    page.click("button[name=index]")
    page.fill("input[name=change]", "5")
    page.fill("input[name=reason]", "stocktake w12a")
    shots(page, "06-adjust-stock-form")
    page.click("input[name=apply]")
    shots(page, "07-adjusted")

    # then: the movement is in the ledger
    page.goto(f"{public}/admin/inventory/inventory/stockmovement/?q={item['sku']}")
    ledger = page.inner_text("#result_list")
    assert "stocktake w12a" in ledger and IM[0] in ledger
    shots(page, "08-ledger-adjustment")
    assert stock(platform, item["id"]) == 5

    # when: a purchase order of 10 received in the purchase admin
    order = draft_order(platform, "purchase", item, quantity=10, unit_price=4)
    page.goto(f"{public}/admin/purchase/purchasing/purchaseorder/")
    messages = run_action(page, "receive", order["id"])
    assert "Receive selected orders: 1 order(s)." in messages, messages
    shots(page, "09-purchase-order-received")

    # then: the stock rises (inventory receives it by event) and the ledger shows the receipt
    eventually(lambda: stock(platform, item["id"]), lambda quantity: quantity == 15, "stock after the receipt")
    page.goto(f"{public}/admin/inventory/inventory/stockmovement/?q={item['sku']}")
    assert RECEIPT_LABEL in page.inner_text("#result_list")
    shots(page, "10-ledger-with-the-receipt")
    page.goto(f"{public}/admin/inventory/inventory/item/?q={item['sku']}")
    assert re.search(r"\b15\b", page.inner_text("#result_list"))
    shots(page, "11-stock-risen")


def test_a_finance_manager_confirms_and_pays_a_sales_order(platform, new_page, shots, item):
    # given: a draft sales order of an item in stock
    api(platform, "PUT", f"/api/items/{item['id']}/stock", {"quantity": 3, "reason": "opening stock"})
    order = draft_order(platform, "sales", item, quantity=3)
    page = new_page()
    page.goto(f"{platform['public']}/admin/sales/sales/salesorder/")
    sign_in(page, *FM)

    # when: confirmed, then paid, in the sales admin
    confirmed = run_action(page, "confirm", order["id"])
    shots(page, "12-sales-order-confirmed")
    paid = run_action(page, "pay", order["id"])
    shots(page, "13-sales-order-paid")

    # then
    assert "Confirm selected orders: 1 order(s)." in confirmed, confirmed
    assert "Mark selected orders paid: 1 order(s)." in paid, paid
    assert api(platform, "GET", f"/api/sales/orders/{order['id']}", as_user=FM)["status"] == "Paid"


def test_an_inventory_manager_sees_neither_the_confirm_action_nor_user_management(platform, new_page, shots):
    public = platform["public"]
    page = new_page()

    # when
    page.goto(f"{public}/admin/sales/sales/salesorder/")
    sign_in(page, *IM)
    actions = page.locator("select[name=action] option").all_inner_texts()
    shots(page, "14-im-sales-orders-without-confirm")
    page.goto(f"{public}/admin/auth/")
    auth_index = page.inner_text("#content-main")
    shots(page, "15-im-auth-admin-without-users")
    users = page.goto(f"{public}/admin/auth/accounts/user/")

    # then
    assert not any("Confirm" in action for action in actions), actions
    assert "Users" not in auth_index
    assert users.status == 403


def test_six_wrong_passwords_at_the_sign_in_page_lock_the_account_for_the_api_login_too(platform, new_page, shots):
    # given
    _, email, password = _register(platform["gateway"], "finance_manager")
    page = new_page()
    page.goto(f"{platform['public']}/admin/")
    page.click("text=Sign in")

    # when: six wrong passwords
    for attempt in range(6):
        sign_in(page, email, f"wrong-{attempt}-Passw0rd")
    error = page.inner_text("#signin-error")
    shots(page, "16-locked-out")

    # then: locked out at the page and at the API, with the right password
    sign_in(page, email, password)
    assert "Too many failed sign-ins" in error
    assert "Too many failed sign-ins" in page.inner_text("#signin-error")
    status, body = _call("POST", f"{platform['gateway']}/api/auth/login", {"email": email, "password": password})
    assert status == 429, body


def test_a_deactivated_account_is_refused_and_its_open_session_ends(platform, new_page, shots):
    # given: a signed-in inventory manager working in the inventory admin
    user_id, email, password = _register(platform["gateway"], "inventory_manager")
    page = new_page()
    public = platform["public"]
    page.goto(f"{public}/admin/inventory/")
    sign_in(page, email, password)
    assert page.url == f"{public}/admin/inventory/"

    # when: an admin deactivates the account through the API
    api(platform, "POST", f"/api/auth/users/{user_id}/deactivate", as_user=ADMIN)
    time.sleep(RECHECK_SECONDS + 1)

    # then: the open session ends (the next page is the sign-in page) and signing in again is refused
    page.goto(f"{public}/admin/inventory/inventory/item/")
    assert "/admin/auth/sso/signin/" in page.url, page.url
    sign_in(page, email, password)
    assert "Invalid email or password." in page.inner_text("#signin-error")
    shots(page, "17-deactivated-refused")


def test_signing_out_at_the_index_ends_every_admin_session(platform, new_page, shots):
    # given: a finance manager signed in, working in the contact admin
    public = platform["public"]
    page = new_page()
    page.goto(f"{public}/admin/contact/")
    sign_in(page, *FM)
    assert page.url == f"{public}/admin/contact/"

    # when: signed out from the back office's index
    page.goto(f"{public}/admin/")
    page.click("text=Sign out")
    page.click("input[type=submit]")
    shots(page, "18-signed-out")

    # then: the index knows nobody, and the contact admin's open session ends at its re-check
    assert page.url == f"{public}/admin/" and "Not signed in" in page.inner_text("#who")
    time.sleep(RECHECK_SECONDS + 1)
    page.goto(f"{public}/admin/contact/contacts/customer/")
    assert "/admin/auth/sso/signin/" in page.url, page.url
    # ... and signing in again goes back to the page asked for, under the admin's mount point
    sign_in(page, *FM)
    assert page.url == f"{public}/admin/contact/contacts/customer/", page.url
