"""The sales admin's order entry: drafts added and changed through the API's serializers and services.

contact_svc and inventory_svc are the test kit's fakes, so the searches and the save go
through the real service client; a refused save shows the service's message on its field and
writes nothing.
"""

from decimal import Decimal

import pytest

from common.events.models import OutboxEvent
from erp_testkit.fake_services import closed_port_url
from erp_testkit.orders import entry_form
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db

URL = "/admin/sales/salesorder/"


def rows() -> tuple[int, int]:
    return SalesOrder.objects.count(), OutboxEvent.objects.count()


def test_a_finance_manager_enters_a_draft_priced_as_the_api_prices_it(services, customer_id, staff_login):
    # given
    gadget = services.add_item(sku="GADGET", unit_price="7.50")
    widget = services.add_item(sku="WIDGET", unit_price="2.00")
    finance = staff_login("finance_manager")

    # when: the gadget at its own price, the widget at 1.25, backorders allowed
    response = finance.post(
        f"{URL}add/",
        entry_form(
            {"customer_id": customer_id}, [(gadget, "2", ""), (widget, "3", "1.25"), ("", "", "")], allow_backorder="on"
        ),
    )

    # then
    order = SalesOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}{order.pk}/change/"
    assert (order.status, order.customer_name, order.total_amount, order.allow_backorder) == (
        "Draft",
        "Acme Retail",
        Decimal("18.75"),
        True,
    )
    lines = [(line.sku, line.quantity, line.unit_price) for line in order.lines.order_by("position")]
    assert lines == [("GADGET", 2, Decimal("7.50")), ("WIDGET", 3, Decimal("1.25"))]


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("unknown", "item_id", "Unknown item."),
        ("zero", "quantity", "Ensure this value is greater than or equal to 1."),
        ("no-item", "item_id", "This field is required."),
    ],
)
def test_a_refused_line_is_shown_on_its_field_and_nothing_is_written(
    services, customer_id, staff_login, line, field, message
):
    # given: a good first line, then the refused one
    good = services.add_item(unit_price="1.00")
    refused = {
        "unknown": ("0b7c3a1e-8a55-4b8e-9d76-7a4a3c1d2e9f", "1", ""),
        "zero": (services.add_item(), "0", ""),
        "no-item": ("", "4", ""),
    }[line]
    finance = staff_login("finance_manager")
    before = rows()

    # when
    response = finance.post(f"{URL}add/", entry_form({"customer_id": customer_id}, [(good, "1", ""), refused]))

    # then
    assert response.status_code == 200
    lines = response.context["rows"].forms
    assert lines[0].errors == {}
    assert lines[1].errors == {field: [message]}
    assert b"Nothing was saved." in response.content
    assert rows() == before


def test_an_archived_item_is_refused_with_the_services_message(services, customer_id, staff_login):
    # given
    archived = services.add_item()
    services.items[archived]["active"] = False
    before = rows()

    # when
    response = staff_login("finance_manager").post(
        f"{URL}add/", entry_form({"customer_id": customer_id}, [(archived, "1", "")])
    )

    # then
    assert response.context["rows"].forms[0].errors == {"item_id": ["Archived item."]}
    assert rows() == before


def test_an_unknown_customer_is_shown_on_the_customer_field(services, staff_login):
    # given
    item = services.add_item()
    before = rows()

    # when
    response = staff_login("finance_manager").post(
        f"{URL}add/", entry_form({"customer_id": "5d0f6a7c-0000-4000-8000-000000000001"}, [(item, "1", "")])
    )

    # then
    assert response.context["header"].errors == {"customer_id": ["Unknown customer."]}
    assert rows() == before


def test_a_customer_that_is_not_an_id_is_refused_without_asking_contact_svc_to_name_it(services, staff_login):
    # given: a hand-made post whose customer is not an id
    item = services.add_item()

    # when
    response = staff_login("finance_manager").post(
        f"{URL}add/", entry_form({"customer_id": "not-an-id"}, [(item, "1", "")])
    )

    # then: the serializer's message, and no lookup of nothing (contact_svc refuses an empty one)
    assert response.context["header"].errors == {"customer_id": ["Must be a valid UUID."]}
    assert not any(path.startswith("/customers/lookup") for _, path, _ in services.requests)
    assert rows() == (0, 0)


def test_no_line_at_all_is_the_apis_refusal_above_the_form(services, customer_id, staff_login):
    # when
    response = staff_login("finance_manager").post(
        f"{URL}add/", entry_form({"customer_id": customer_id}, [("", "", "")])
    )

    # then
    assert response.context["header"].non_field_errors() == ["Lines: Ensure this field has at least 1 elements."]
    assert rows() == (0, 0)


def test_an_inventory_that_does_not_answer_is_a_message_and_no_order(services, customer_id, staff_login, settings):
    # given
    item = services.add_item()
    settings.ERP = {**settings.ERP, "INVENTORY_SERVICE_URL": closed_port_url()}

    # when
    response = staff_login("finance_manager").post(
        f"{URL}add/", entry_form({"customer_id": customer_id}, [(item, "1", "")])
    )

    # then
    assert response.status_code == 200
    assert response.context["header"].non_field_errors() == [
        "Nothing was saved: A service this request needs is unavailable."
    ]
    assert rows() == (0, 0)
    # the page shown again asks nobody to name the chosen customer (a slow service would be waited for twice)
    assert not any(path.startswith("/customers/lookup") for _, path, _ in services.requests)


def test_a_drafts_lines_are_replaced_and_its_page_shows_them(services, draft, staff_login):
    # given
    first = services.add_item(sku="FIRST", unit_price="3.00")
    second = services.add_item(sku="SECOND", unit_price="5.00")
    order = draft([(first, 1)])
    finance = staff_login("finance_manager")

    # when
    page = finance.get(f"{URL}{order['id']}/change/")
    response = finance.post(f"{URL}{order['id']}/change/", entry_form({}, [(second, "4", "")]))

    # then
    assert page.status_code == 200 and b"FIRST" in page.content
    assert response.status_code == 302
    saved = SalesOrder.objects.get(pk=order["id"])
    assert [(line.sku, line.quantity) for line in saved.lines.all()] == [("SECOND", 4)]
    assert saved.total_amount == Decimal("20.00")
    assert str(saved.customer_id) == order["customer_id"]


def test_a_confirmed_order_is_read_only_with_its_actions(services, draft, staff_login):
    # given
    order = draft([(services.add_item(stock=5), 1)])
    finance = staff_login("finance_manager")
    finance.post(URL, {"action": "confirm", "_selected_action": [order["id"]], "index": "0"})

    # when
    page = finance.get(f"{URL}{order['id']}/change/")
    posted = finance.post(f"{URL}{order['id']}/change/", entry_form({}, [(services.add_item(), "9", "")]))

    # then
    assert page.status_code == 200
    assert b'name="lines-0-quantity"' not in page.content and b'name="_save"' not in page.content
    assert b'name="run_pay"' in page.content and b'name="run_cancel"' in page.content
    assert posted.status_code == 403
    assert [line.quantity for line in SalesOrder.objects.get(pk=order["id"]).lines.all()] == [1]


def test_the_item_search_asks_inventory_and_shows_stock_and_price(services, staff_login):
    # given
    services.add_item(sku="BOLT-10", name="Bolt", unit_price="0.40", stock=120)
    services.add_item(sku="NUT-10", name="Nut", unit_price="0.10", stock=5)

    # when
    answer = staff_login("inventory_manager").get(f"{URL}search/item/", {"term": "bolt"}).json()

    # then
    assert [(row["text"], row["unit_price"], row["on_hand"]) for row in answer["results"]] == [
        ("BOLT-10 Bolt · 120 on hand · 0.40", "0.40", "120")
    ]
    assert services.requests[-1][1].startswith("/items?search=bolt&active=true&limit=20&ordering=sku")


def test_the_customer_search_asks_contact_svc(services, staff_login):
    # given
    acme = services.add_contact("customers", "Acme Retail")
    services.add_contact("customers", "Other Shop")

    # when
    answer = staff_login("finance_manager").get(f"{URL}search/party/", {"term": "acme"}).json()

    # then
    assert [row["id"] for row in answer["results"]] == [acme]


def test_a_search_asks_only_what_the_lists_search_accepts(services, staff_login):
    # given: a NUL, commas and twelve words, each of which the lists' search refuses with a 400
    # (common.filters.SearchFilter: a NUL, more than 10 words)
    finance = staff_login("finance_manager")

    # when
    response = finance.get(f"{URL}search/party/", {"term": "a\x00b,c d e f g h i j k l"})

    # then: asked with the first ten words, so the person sees matches, not "did not answer"
    assert response.status_code == 200 and response.json()["results"] == []
    assert services.requests[-1][1].startswith("/customers?search=a+b+c+d+e+f+g+h+i+j&active=true")


def test_a_search_whose_service_does_not_answer_says_so_in_the_dropdown(services, staff_login, settings):
    # given
    settings.ERP = {**settings.ERP, "INVENTORY_SERVICE_URL": closed_port_url()}

    # when
    response = staff_login("finance_manager").get(f"{URL}search/item/", {"term": "bolt"})

    # then
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["id"], result["disabled"]) == ("unanswered", True)
    assert result["text"].startswith("inventory_svc did not answer (A service this request needs is unavailable.)")


def test_a_staff_member_without_a_role_may_not_search(services, client, django_user_model):
    # given: staff, but in no role's group
    client.force_login(django_user_model.objects.create_user(username="norole@example.com", is_staff=True))

    # when
    items = client.get(f"{URL}search/item/", {"term": "x"})
    customers = client.get(f"{URL}search/party/", {"term": "x"})

    # then
    assert (items.status_code, customers.status_code) == (403, 403)
    assert services.requests == []
