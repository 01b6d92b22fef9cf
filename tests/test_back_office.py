"""The back office in a real browser, through the gateway's /admin/, against the local run's processes.

Debian's Chromium (``/usr/bin/chromium``, installed by ``scripts/test.sh``) driven by
Playwright for Python; Playwright never downloads a browser of its own. The session's embedded
local run serves the module (SQLite, filesystem broker; tests/platforms.py), which re-checks an
admin session every few seconds so that a deactivation is seen quickly; a user these tests lock
out or deactivate is one they registered. A screenshot of each step goes to
``<ERP_DATA_DIR>/screenshots/back-office/`` (the test command's data dir).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
import uuid

import pytest
from platforms import SSO_RECHECK_SECONDS as RECHECK_SECONDS
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_local_run import ADMIN_USER, FM_USER, IM_USER, _call, _login, _register, eventually

IM, FM, ADMIN = IM_USER, FM_USER, ADMIN_USER
RECEIPT_LABEL = "Purchase receipt"  # the ledger's label of reason purchase_receipt


def sign_in(page, email: str, password: str) -> None:
    """Fill auth_svc's sign-in page (where any admin sends a browser without a session)."""
    assert "/admin/auth/sso/signin/" in page.url, page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")


def page_said(page) -> str:
    """Where ``page`` is and what it says: an assertion's message when a step landed elsewhere."""
    return f"{page.url}: {page.inner_text('body')[:600]}"


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


def party(platform, kind: str, tag: str) -> dict:
    """Create a customer (``kind`` sales) or vendor (purchase) named after ``tag`` through the API."""
    collection = PARTIES[kind][0]
    return api(platform, "POST", f"/api/{collection}", {"name": f"Entry {tag}", "email": f"entry-{tag}@example.com"})


def new_item(platform, tag: str, *, unit_price: float, on_hand: int = 0) -> dict:
    created = api(
        platform, "POST", "/api/items", {"sku": f"e-{tag}", "name": f"Entry item {tag}", "unit_price": unit_price}
    )
    if on_hand:
        api(platform, "PUT", f"/api/items/{created['id']}/stock", {"quantity": on_hand, "reason": "opening stock"})
    return created


def pick(page, field: str, term: str, result: str) -> str:
    """Search ``term`` in the autocomplete of ``field`` and choose the result that has ``result``; return its text."""
    page.click(f"select[name='{field}'] + .select2-container .select2-selection")
    page.fill(".select2-container--open .select2-search__field", term)
    option = page.locator(".select2-results__option:not(.loading-results)", has_text=result)
    text = option.inner_text()
    option.click()
    # Chosen, the dropdown closes. On a loaded machine the list can be drawn again under the click, which
    # then chooses nothing and leaves the dropdown open over the next field: choose again (the saved order
    # says what was chosen).
    if not _dropdown_closes(page, timeout=5_000):
        option.click()
        assert _dropdown_closes(page, timeout=30_000), f"the autocomplete of {field} stayed open"
    return text


def _dropdown_closes(page, timeout: float) -> bool:
    try:
        page.wait_for_function("!document.querySelector('.select2-container--open')", timeout=timeout)
    except PlaywrightTimeoutError:
        return False
    return True


def enter_line(page, index: int, item: dict, quantity: str, unit_price: str = "") -> str:
    """Fill line ``index``: ``item`` picked by searching its SKU, then the quantity and the unit price (if any)."""
    chosen = pick(page, f"lines-{index}-item_id", item["sku"].lower(), item["sku"])
    page.fill(f"input[name='lines-{index}-quantity']", quantity)
    page.fill(f"input[name='lines-{index}-unit_price']", unit_price)
    return chosen


def autocomplete_message(page, field: str, term: str) -> str:
    """Search ``term`` in the autocomplete of ``field`` and return what its dropdown says, then close it."""
    page.click(f"select[name='{field}'] + .select2-container .select2-selection")
    page.fill(".select2-container--open .select2-search__field", term)
    message = page.locator(".select2-results__option:not(.loading-results)").first.inner_text()
    page.keyboard.press("Escape")
    return message


def save(page) -> None:
    """Press "Save" and wait for the page it answers with (reading the page before would read the old one)."""
    with page.expect_navigation():
        page.click("input[name=_save]")


def saved_order_id(page) -> str:
    match = re.search(r"/([0-9a-f-]{36})/change/$", page.url)
    assert match, page.url
    return match.group(1)


def orders_of(platform, kind: str, party_id: str) -> list[dict]:
    field = PARTIES[kind][1]
    return api(platform, "GET", f"/api/{kind}/orders?{field}={party_id}", as_user=FM)


@contextlib.contextmanager
def stopped(platform, process: str):
    """Stop ``process`` of the local run (``inventory-web``) and all it started, and let it go on afterwards.

    SIGSTOP, not a kill: the run stops whole when a web server exits. A stopped server still
    accepts connections (the kernel does) and answers none: what a hung service looks like.
    """
    started = [line for line in platform["log"].read_text().splitlines() if f"{process} started (pid=" in line]
    group = int(started[-1].rsplit("pid=", 1)[1].rstrip(")"))
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


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
    assert page.url == f"{public}/admin/inventory/", page_said(page)
    assert IM[0] in page.inner_text("#user-tools").lower()
    shots(page, "03-inventory-admin")
    for service, heading in (("purchase", "Purchase orders"), ("contact", "Customers")):
        page.goto(f"{public}/admin/{service}/")
        assert page.url == f"{public}/admin/{service}/", page_said(page)
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
    assert page.url == f"{public}/admin/inventory/", page_said(page)

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
    assert page.url == f"{public}/admin/contact/", page_said(page)

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
    assert page.url == f"{public}/admin/contact/contacts/customer/", page_said(page)


def test_a_finance_manager_enters_a_sales_order_through_the_autocompletes_and_confirms_it(platform, new_page, shots):
    # given: a customer and two items in stock
    tag = uuid.uuid4().hex[:6]
    customer = party(platform, "sales", tag)
    gadget = new_item(platform, f"g{tag}", unit_price=7.5, on_hand=10)
    widget = new_item(platform, f"w{tag}", unit_price=2, on_hand=4)
    page = new_page()
    page.goto(f"{platform['public']}/admin/sales/sales/salesorder/")
    sign_in(page, *FM)

    # when: a new order, the customer and both items picked by searching, the widget at a price of its own
    page.click("a.addlink")
    chosen_customer = pick(page, "customer_id", f"entry-{tag}", customer["name"])
    chosen_gadget = enter_line(page, 0, gadget, "2")
    enter_line(page, 1, widget, "3", "1.25")
    facts = page.inner_text("#line-0 .item-facts")
    total = page.inner_text("#order-total")
    shots(page, "19-sales-order-entry")
    save(page)
    saved = page.inner_text("ul.messagelist")
    order_id = saved_order_id(page)
    shots(page, "20-sales-order-saved-draft")

    # ... and confirmed from the list
    page.goto(f"{platform['public']}/admin/sales/sales/salesorder/")
    confirmed = run_action(page, "confirm", order_id)
    shots(page, "21-sales-order-confirmed-from-the-list")

    # then
    assert chosen_customer == f"{customer['name']} <{customer['email']}>"
    assert chosen_gadget == f"{gadget['sku']} {gadget['name']} · 10 on hand · 7.50"
    assert facts == "10 on hand · unit price 7.50"
    assert total == "18.75"
    assert f"Draft order {order_id} created: total 18.75." in saved, saved
    assert "Confirm selected orders: 1 order(s)." in confirmed, confirmed
    order = api(platform, "GET", f"/api/sales/orders/{order_id}", as_user=FM)
    assert (order["status"], order["customer_id"], order["total_amount"]) == ("Confirmed", customer["id"], 18.75)
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in order["items"]] == [
        (gadget["sku"], 2, 7.5),
        (widget["sku"], 3, 1.25),
    ]


def test_an_inventory_manager_enters_a_purchase_order_and_records_its_receipt(platform, new_page, shots):
    # given
    tag = uuid.uuid4().hex[:6]
    vendor = party(platform, "purchase", tag)
    item = new_item(platform, f"p{tag}", unit_price=9)
    page = new_page()
    page.goto(f"{platform['public']}/admin/purchase/purchasing/purchaseorder/add/")
    sign_in(page, *IM)

    # when: 10 units at 4.00, saved; then the receipt of all 10 from the order's page
    pick(page, "vendor_id", f"Entry {tag}", vendor["name"])
    enter_line(page, 0, item, "10", "4")
    total = page.inner_text("#order-total")
    shots(page, "22-purchase-order-entry")
    save(page)
    order_id = saved_order_id(page)
    page.click("button[name=run_record_receipt]")
    page.fill("form input[type=number]", "10")
    shots(page, "23-purchase-order-receipt-form")
    page.click("input[name=apply]")
    recorded = page.inner_text("ul.messagelist")
    shots(page, "24-purchase-order-received")

    # then: received, and inventory adds the stock
    assert total == "40.00"
    assert f"Receipt recorded: order {order_id} is Received." in recorded, recorded
    order = api(platform, "GET", f"/api/purchase/orders/{order_id}", as_user=IM)
    assert (order["status"], order["vendor_id"], order["total_amount"]) == ("Received", vendor["id"], 40.0)
    eventually(lambda: stock(platform, item["id"]), lambda quantity: quantity == 10, "stock after the receipt")


def test_refused_sales_orders_show_the_services_message_and_write_nothing(platform, new_page, shots):
    # given: a customer, an item archived and one deleted after they were picked, and an item in stock
    tag = uuid.uuid4().hex[:6]
    customer = party(platform, "sales", tag)
    archived, deleted, good = (new_item(platform, f"{kind}{tag}", unit_price=1) for kind in ("a", "d", "k"))
    page = new_page()
    page.goto(f"{platform['public']}/admin/sales/sales/salesorder/add/")
    sign_in(page, *FM)
    pick(page, "customer_id", f"entry-{tag}", customer["name"])
    for index, (item, quantity) in enumerate([(archived, "1"), (deleted, "1"), (good, "0")]):
        enter_line(page, index, item, quantity)
    api(platform, "PATCH", f"/api/items/{archived['id']}", {"active": False})
    api(platform, "DELETE", f"/api/items/{deleted['id']}", as_user=FM, expected=(204,))

    # when: saved; then again with the quantity put right
    save(page)
    checked = [page.locator(f"#line-{index} ul.errorlist").all_inner_texts() for index in range(3)]
    shots(page, "25-sales-order-refused-quantity")
    page.fill("input[name='lines-2-quantity']", "1")
    save(page)
    priced = [page.locator(f"#line-{index} ul.errorlist").all_inner_texts() for index in range(3)]
    shots(page, "26-sales-order-refused-items")

    # then: the API's serializer refuses the quantity first, then sales_svc the items; each line says why, no order
    assert "Nothing was saved." in page.inner_text(".errornote")
    assert checked == [[], [], ["Ensure this value is greater than or equal to 1."]]
    assert priced == [["Archived item."], ["Unknown item."], []]
    assert orders_of(platform, "sales", customer["id"]) == []

    # when: saved once more while inventory_svc does not answer
    with stopped(platform, "inventory-web"):
        searched = autocomplete_message(page, "lines-3-item_id", good["sku"].lower())
        save(page)
        refused = page.inner_text(".errornote") + page.inner_text("#order-entry ul.errorlist.nonfield")
        shots(page, "27-sales-order-inventory-stopped")

    # then: the search and the save say so, and there is still no order
    assert searched.startswith("inventory_svc did not answer (A service this request needs did not answer in time.)")
    assert "Nothing was saved: A service this request needs did not answer in time." in refused, refused
    assert orders_of(platform, "sales", customer["id"]) == []
