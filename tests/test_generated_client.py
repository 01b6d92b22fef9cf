"""A client generated from the gateway's merged OpenAPI document runs the brief's workflow (issue 11).

What a user of the API does: fetch ``/api/schema/``, validate it, generate a client with
openapi-python-client (as docs/client.md says), and use nothing but that
client against the local run's real processes. Every answer must parse into the model its
operation documents: the ``*_detailed`` call's ``parsed`` is that model (not None, which is
what an undocumented status gives), and no field of a success answer is left over in a
model's ``additional_properties`` (the wire has nothing the document does not name).
The client is generated once per module, against the session's embedded platform (tests/platforms.py).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import attrs
import pytest
from openapi_spec_validator import validate
from test_local_run import merged_schema
from test_workflow import eventually

PACKAGE = "erp_client"
PASSWORD = "Sturdy-Pass-2026"


@pytest.fixture(scope="module")
def api(platform, tmp_path_factory):
    """The generated package's modules, from the merged document the gateway serves."""
    schema = merged_schema(platform)
    validate(schema)
    folder = tmp_path_factory.mktemp("generated")
    (folder / "schema.json").write_text(json.dumps(schema))
    (folder / "config.yaml").write_text("content_type_overrides:\n  text/csv: application/octet-stream\n")
    bin_dir = Path(sys.executable).parent
    # The command of docs/client.md (its default post-hooks run ruff, found on PATH); any warning fails it.
    command = ["generate", "--path", "schema.json", "--meta", "none", "--output-path", PACKAGE, "--fail-on-warning"]
    command += ["--config", "config.yaml"]
    result = subprocess.run(
        [bin_dir / "openapi-python-client", *command],
        cwd=folder,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield SimpleNamespace(
            client=importlib.import_module(f"{PACKAGE}.client"),
            models=importlib.import_module(f"{PACKAGE}.models"),
            auth=_operations("auth"),
            contact=_operations("contact"),
            inventory=_operations("inventory"),
            sales=_operations("sales"),
            purchase=_operations("purchase"),
        )
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _operations(tag: str) -> SimpleNamespace:
    """Every operation module of one tag (``api.sales.sales_orders_confirm``)."""
    package = importlib.import_module(f"{PACKAGE}.api.{tag}")
    folder = Path(package.__file__).parent
    return SimpleNamespace(
        **{path.stem: importlib.import_module(f"{package.__name__}.{path.stem}") for path in folder.glob("[!_]*.py")}
    )


def parsed(response, status: int, model):
    """The answer's parsed model, asserting the status, the documented model and nothing undocumented."""
    assert response.status_code == status, (response.status_code, response.content[:1000])
    assert isinstance(response.parsed, model), (type(response.parsed), response.content[:1000])
    if status < 400:
        assert _undocumented(response.parsed) == [], response.content[:1000]
    return response.parsed


def _undocumented(value, where: str = "") -> list[str]:
    """Where a generated model kept fields its schema does not name (``additional_properties``)."""
    if isinstance(value, list):
        return [path for index, item in enumerate(value) for path in _undocumented(item, f"{where}.{index}")]
    if not attrs.has(type(value)):
        return []
    found = [f"{where}.{key}" for key in getattr(value, "additional_properties", {})]
    for field in attrs.fields(type(value)):
        if field.name != "additional_properties":
            found += _undocumented(getattr(value, field.name), f"{where}.{field.name}")
    return found


def _user(api, gateway: str, role: str):
    """Register a user of ``role`` with an email of its own (open registration), log in, return a client."""
    m = api.models
    # Registering takes a token but needs none (security: [jwtAuth, {}]): the client hints at an
    # AuthenticatedClient, and a plain one works. Logging in is public (security: []).
    anonymous = api.client.Client(base_url=gateway, raise_on_unexpected_status=True)
    email = f"client-{role}-{uuid.uuid4().hex[:8]}@example.com"
    body = m.AuthUserCreateRequest(email=email, password=PASSWORD, role=m.AuthRoleEnum(role))
    user = parsed(api.auth.auth_register.sync_detailed(client=anonymous, body=body), 201, m.AuthRegisterResponse201)
    assert (user.data.email, user.data.role) == (email, m.AuthRoleEnum(role))
    login = parsed(
        api.auth.auth_login.sync_detailed(client=anonymous, body=m.AuthLoginRequest(email=email, password=PASSWORD)),
        200,
        m.AuthLoginResponse200,
    )
    assert login.data.token_type == "Bearer" and login.data.user.id == user.data.id
    return api.client.AuthenticatedClient(
        base_url=gateway, token=login.data.access_token, raise_on_unexpected_status=True
    )


@pytest.fixture(scope="module")
def im(api, platform):
    return _user(api, platform["gateway"], "inventory_manager")


@pytest.fixture(scope="module")
def fm(api, platform):
    return _user(api, platform["gateway"], "finance_manager")


def test_the_workflow_through_the_generated_client(api, im, fm):
    m, tag = api.models, uuid.uuid4().hex[:8]
    inventory, sales, purchase = api.inventory, api.sales, api.purchase

    def stock(item_id) -> int:
        answer = parsed(inventory.items_stock.sync_detailed(item_id, client=im), 200, m.ItemsStockResponse200)
        assert answer.data.item_id == item_id
        return answer.data.quantity

    # given a vendor, a customer and an item with no stock
    vendor = parsed(
        api.contact.vendors_create.sync_detailed(
            client=im, body=m.ContactVendorRequest(name=f"Vendor {tag}", email=f"v-{tag}@example.com")
        ),
        201,
        m.VendorsCreateResponse201,
    ).data
    customer = parsed(
        api.contact.customers_create.sync_detailed(
            client=im, body=m.ContactCustomerRequest(name=f"Customer {tag}", email=f"C-{tag}@Example.com")
        ),
        201,
        m.CustomersCreateResponse201,
    ).data
    assert customer.email == f"c-{tag}@example.com"
    item = parsed(
        inventory.items_create.sync_detailed(
            client=im, body=m.InventoryItemRequest(sku=f"gc-{tag}", name="Generated widget", unit_price=19.99)
        ),
        201,
        m.ItemsCreateResponse201,
    ).data
    assert (item.sku, item.unit_price, item.quantity) == (f"GC-{tag.upper()}", 19.99, 0)

    # when a purchase order for 10 at an agreed 12.50 is created and received
    order = m.PurchaseOrderCreateRequest(
        vendor_id=vendor.id, items=[m.LineRequest(item_id=item.id, quantity=10, unit_price=12.5)]
    )
    bought = parsed(
        purchase.purchase_orders_create.sync_detailed(client=im, body=order), 201, m.PurchaseOrdersCreateResponse201
    ).data
    assert (bought.status, bought.vendor_name, bought.total_amount, bought.received_at) == (
        m.PurchaseStatusEnum.DRAFT,
        f"Vendor {tag}",
        125.0,
        None,
    )
    received = parsed(
        purchase.purchase_orders_receive.sync_detailed(bought.id, client=im),
        200,
        m.PurchaseOrdersReceiveResponse200,
    ).data
    assert received.status == m.PurchaseStatusEnum.RECEIVED and received.received_at is not None

    # then the stock goes up (inventory applies the event on its own time)
    eventually(lambda: stock(item.id), lambda quantity: quantity == 10, "stock after the reception")

    # when the customer orders 7 at the item's price and finance confirms
    order = m.SalesOrderCreateRequest(customer_id=customer.id, items=[m.LineRequest(item.id, 7)])
    sold = parsed(sales.sales_orders_create.sync_detailed(client=im, body=order), 201, m.SalesOrdersCreateResponse201)
    assert (sold.data.status, sold.data.stock_status, sold.data.confirmed_at) == (m.SalesStatusEnum.DRAFT, None, None)
    assert (sold.data.items[0].unit_price, sold.data.items[0].subtotal, sold.data.total_amount) == (
        19.99,
        139.93,
        139.93,
    )
    confirmed = parsed(
        sales.sales_orders_confirm.sync_detailed(sold.data.id, client=fm), 200, m.SalesOrdersConfirmResponse200
    ).data
    assert (confirmed.status, confirmed.stock_status) == (m.SalesStatusEnum.CONFIRMED, m.SalesStockStatusEnum.PENDING)

    # then the stock goes down and the order learns it was issued
    eventually(lambda: stock(item.id), lambda quantity: quantity == 3, "stock after the confirmation")

    def sale():
        answer = sales.sales_orders_retrieve.sync_detailed(sold.data.id, client=fm)
        return parsed(answer, 200, m.SalesOrdersRetrieveResponse200).data

    eventually(sale, lambda order: order.stock_status == m.SalesStockStatusEnum.ISSUED, "stock_status")

    # when both orders are paid
    paid = parsed(sales.sales_orders_pay.sync_detailed(sold.data.id, client=fm), 200, m.SalesOrdersPayResponse200)
    assert paid.data.status == m.SalesStatusEnum.PAID and paid.data.paid_at is not None
    answer = purchase.purchase_orders_pay.sync_detailed(bought.id, client=fm)
    assert parsed(answer, 200, m.PurchaseOrdersPayResponse200).data.status == m.PurchaseStatusEnum.PAID

    # and finance finds the sale among the paid ones confirmed since the order was created
    answer = sales.sales_orders_list.sync_detailed(
        client=fm, status=m.SalesStatusEnum.PAID, customer_id=customer.id, confirmed_after=sold.data.created_at
    )
    listed = parsed(answer, 200, m.SalesOrdersListResponse200)
    assert ([order.id for order in listed.data], listed.meta.total) == ([sold.data.id], 1)

    # then the ledger explains the stock on hand
    answer = inventory.items_movements.sync_detailed(item.id, client=fm, limit=100)
    movements = parsed(answer, 200, m.ItemsMovementsResponse200)
    assert sorted((move.reason, move.change) for move in movements.data) == [
        (m.InventoryReasonEnum.PURCHASE_RECEIPT, 10),
        (m.InventoryReasonEnum.SALES_ISSUE, -7),
    ]
    assert {move.reference for move in movements.data} == {bought.id, sold.data.id}
    assert (movements.meta.total, movements.meta.limit, movements.meta.offset) == (2, 100, 0)


def test_a_list_has_typed_meta(api, im):
    # given three customers of one search word
    m, tag = api.models, uuid.uuid4().hex[:8]
    for n in range(3):
        body = m.ContactCustomerRequest(name=f"Listed {tag} {n}", email=f"l{n}-{tag}@example.com")
        parsed(api.contact.customers_create.sync_detailed(client=im, body=body), 201, m.CustomersCreateResponse201)

    # when the second page of two is asked for
    answer = api.contact.customers_list.sync_detailed(client=im, search=tag, limit=2, offset=2)

    # then
    page = parsed(answer, 200, m.CustomersListResponse200)
    assert isinstance(page.meta, m.ListMeta)
    assert (page.meta.total, page.meta.limit, page.meta.offset) == (3, 2, 2)
    assert [customer.name for customer in page.data] == [f"Listed {tag} 0"]  # newest first


def test_refused_requests_parse_as_the_error_envelope(api, im, fm):
    m = api.models
    body = m.InventoryItemRequest(sku=f"gc-{uuid.uuid4().hex[:8]}", name="Refused", unit_price=1)
    item = parsed(api.inventory.items_create.sync_detailed(client=fm, body=body), 201, m.ItemsCreateResponse201).data

    # when a body is invalid, a record is unknown, a role is not allowed and a transition is not
    invalid = api.contact.customers_create.sync_detailed(
        client=im, body=m.ContactCustomerRequest(name="", email="not-an-email")
    )
    unknown = api.contact.customers_retrieve.sync_detailed(uuid.uuid4(), client=im)
    forbidden = api.inventory.items_stock_update.sync_detailed(
        item.id, client=fm, body=m.InventoryStockAdjustmentRequest(quantity=5)
    )
    customer = m.ContactCustomerRequest(name="Refused", email=f"r-{uuid.uuid4().hex[:8]}@example.com")
    customer = parsed(
        api.contact.customers_create.sync_detailed(client=fm, body=customer), 201, m.CustomersCreateResponse201
    ).data
    order = m.SalesOrderCreateRequest(customer_id=customer.id, items=[m.LineRequest(item.id, 1)])
    draft = parsed(
        api.sales.sales_orders_create.sync_detailed(client=fm, body=order), 201, m.SalesOrdersCreateResponse201
    ).data
    conflict = api.sales.sales_orders_pay.sync_detailed(draft.id, client=fm)
    short = api.sales.sales_orders_confirm.sync_detailed(draft.id, client=fm)

    # then each is the typed error envelope, its type an enum member, its details typed
    error = parsed(invalid, 400, m.ErrorEnvelope)
    assert (error.status, error.error.type_) == (400, m.ErrorType.VALIDATION)
    assert sorted(detail.field for detail in error.error.details) == ["email", "name"]
    assert all(isinstance(detail, m.ErrorDetail) and detail.message for detail in error.error.details)
    error = parsed(unknown, 404, m.ErrorEnvelope)
    assert (error.status, error.error.type_, error.error.details) == (404, m.ErrorType.NOT_FOUND, None)
    assert parsed(forbidden, 403, m.ErrorEnvelope).error.type_ == m.ErrorType.FORBIDDEN
    error = parsed(conflict, 409, m.ErrorEnvelope)
    assert error.error.type_ == m.ErrorType.CONFLICT
    assert [(d.field, d.message) for d in error.error.details] == [("status", "order is Draft, expected Confirmed")]
    error = parsed(short, 409, m.ErrorEnvelope)
    [line] = error.error.details
    assert (line.field, line.item_id, line.requested, line.available) == ("items.0.quantity", item.id, 1, 0)
    assert _undocumented(error) == []  # a short line's extra fields are documented too


def test_cancelled_orders_and_a_retried_create_through_the_generated_client(api, im, fm):
    m, tag = api.models, uuid.uuid4().hex[:8]
    inventory, sales, purchase = api.inventory, api.sales, api.purchase
    body = m.InventoryItemRequest(sku=f"gc-x-{tag}", name="Cancelled widget", unit_price=5)
    item = parsed(inventory.items_create.sync_detailed(client=im, body=body), 201, m.ItemsCreateResponse201).data
    adjust = m.InventoryStockAdjustmentRequest(quantity=5, reason="counted")
    answer = inventory.items_stock_update.sync_detailed(item.id, client=im, body=adjust)
    assert parsed(answer, 200, m.ItemsStockUpdateResponse200).data.quantity == 5
    body = m.ContactCustomerRequest(name=f"Cancelling {tag}", email=f"x-{tag}@example.com")
    customer = parsed(
        api.contact.customers_create.sync_detailed(client=im, body=body), 201, m.CustomersCreateResponse201
    )

    # when a create is retried with its Idempotency-Key (the document names the header: the client takes it)
    order = m.SalesOrderCreateRequest(customer_id=customer.data.id, items=[m.LineRequest(item.id, 2)])
    first = sales.sales_orders_create.sync_detailed(client=im, body=order, idempotency_key=f"create-{tag}")
    retry = sales.sales_orders_create.sync_detailed(client=im, body=order, idempotency_key=f"create-{tag}")

    # then it is one order, the retry its replayed answer
    draft = parsed(first, 201, m.SalesOrdersCreateResponse201).data
    assert parsed(retry, 201, m.SalesOrdersCreateResponse201).data.id == draft.id
    assert retry.headers["Idempotent-Replayed"] == "true"

    # when the draft is cancelled, and a confirmed, issued order too
    cancelled = parsed(
        sales.sales_orders_cancel.sync_detailed(draft.id, client=fm), 200, m.SalesOrdersCancelResponse200
    )
    order = m.SalesOrderCreateRequest(customer_id=customer.data.id, items=[m.LineRequest(item.id, 3)])
    issued = parsed(sales.sales_orders_create.sync_detailed(client=im, body=order), 201, m.SalesOrdersCreateResponse201)
    parsed(sales.sales_orders_confirm.sync_detailed(issued.data.id, client=fm), 200, m.SalesOrdersConfirmResponse200)

    def sale():
        return parsed(
            sales.sales_orders_retrieve.sync_detailed(issued.data.id, client=fm), 200, m.SalesOrdersRetrieveResponse200
        )

    eventually(sale, lambda answer: answer.data.stock_status == m.SalesStockStatusEnum.ISSUED, "issued")
    parsed(sales.sales_orders_cancel.sync_detailed(issued.data.id, client=fm), 200, m.SalesOrdersCancelResponse200)

    # then the draft is Cancelled with nothing issued, the other gets its stock back
    assert (cancelled.data.status, cancelled.data.stock_status) == (m.SalesStatusEnum.CANCELLED, None)
    assert cancelled.data.cancelled_at is not None and cancelled.data.confirmed_at is None
    returned = eventually(sale, lambda answer: answer.data.stock_status == m.SalesStockStatusEnum.RETURNED, "returned")
    assert returned.data.status == m.SalesStatusEnum.CANCELLED and returned.data.confirmed_at is not None
    stock = parsed(inventory.items_stock.sync_detailed(item.id, client=im), 200, m.ItemsStockResponse200)
    assert stock.data.quantity == 5
    answer = sales.sales_orders_list.sync_detailed(
        client=fm, status=m.SalesStatusEnum.CANCELLED, customer_id=customer.data.id
    )
    listed = parsed(answer, 200, m.SalesOrdersListResponse200)
    assert ({order.id for order in listed.data}, listed.meta.total) == ({draft.id, issued.data.id}, 2)

    # and a purchase draft cancels the same way; a cancelled order cannot be received
    body = m.ContactVendorRequest(name=f"Vendor {tag}", email=f"xv-{tag}@example.com")
    vendor = parsed(api.contact.vendors_create.sync_detailed(client=im, body=body), 201, m.VendorsCreateResponse201)
    order = m.PurchaseOrderCreateRequest(vendor_id=vendor.data.id, items=[m.LineRequest(item.id, 1)])
    bought = parsed(
        purchase.purchase_orders_create.sync_detailed(client=im, body=order), 201, m.PurchaseOrdersCreateResponse201
    )
    answer = purchase.purchase_orders_cancel.sync_detailed(bought.data.id, client=im)
    assert parsed(answer, 200, m.PurchaseOrdersCancelResponse200).data.status == m.PurchaseStatusEnum.CANCELLED
    refused = parsed(purchase.purchase_orders_receive.sync_detailed(bought.data.id, client=im), 409, m.ErrorEnvelope)
    assert refused.error.type_ == m.ErrorType.CONFLICT


def test_an_items_csv_import_and_export_through_the_generated_client(api, im):
    # given: a file of one new item with opening stock (the client sends it as text/csv)
    sku = f"CSV-{uuid.uuid4().hex[:8].upper()}"
    csv_file = io.BytesIO(f"sku,name,unit_price,quantity\r\n{sku},Imported by file,2.50,5\r\n".encode())

    file = importlib.import_module(f"{PACKAGE}.types").File(payload=csv_file)

    # when
    answer = api.inventory.items_import.sync_detailed(client=im, body=file, dry_run=False)
    exported = api.inventory.items_export.sync_detailed(client=im, sku=sku)

    # then
    result = parsed(answer, 200, api.models.ItemsImportResponse200).data
    assert (result.created, result.updated, result.unchanged, result.stock_adjusted) == (1, 0, 0, 1)
    assert exported.status_code == 200
    assert exported.content.decode().splitlines() == [
        "sku,name,description,unit_price,reorder_level,max_level,quantity",
        f"{sku},Imported by file,,2.50,0,0,5",
    ]
