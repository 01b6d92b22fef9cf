"""common.orders: exact line pricing, the transition mechanics, and nothing that names sales or purchase."""

from __future__ import annotations

import ast
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from rest_framework.exceptions import ValidationError

import common.orders
from common.exceptions import InvalidTransition
from common.orders.lines import MAX_AMOUNT, ItemRef, LineRequest, lines_price, lines_total
from common.orders.machine import Transition

DIME = ItemRef(id=uuid.uuid4(), sku="DIME", name="Dime", unit_price=Decimal("0.10"))
PRICEY = ItemRef(id=uuid.uuid4(), sku="PRICEY", name="Pricey", unit_price=Decimal("5.00"))
ITEMS = {DIME.id: DIME, PRICEY.id: PRICEY}


# The test helpers fake contact_svc, whose paths do name customers and vendors.
TEST_HELPERS = {"testing.py", "fixtures.py"}


def _code(path: Path) -> str:
    """Return the module's code without docstrings or comments (they may give examples)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def test_the_package_names_neither_service():
    # given the code of every module of the shared package
    paths = [path for path in Path(common.orders.__file__).parent.glob("*.py") if path.name not in TEST_HELPERS]

    # then none of them names a service, its domain or its party
    offenders = {path.name for path in paths if re.search(r"sales|purchas|customer|vendor", _code(path), re.I)}
    assert len(paths) >= 10
    assert offenders == set()


def test_lines_are_priced_exactly_defaulting_to_the_item_price():
    # when
    priced = lines_price(
        lines=[LineRequest(item_id=DIME.id, quantity=3), LineRequest(PRICEY.id, 7, Decimal("19.99"))], items=ITEMS
    )

    # then
    assert [(line.sku, line.unit_price, line.subtotal) for line in priced] == [
        ("DIME", Decimal("0.10"), Decimal("0.30")),
        ("PRICEY", Decimal("19.99"), Decimal("139.93")),
    ]
    assert lines_total(priced) == Decimal("140.23")
    assert lines_total([]) == Decimal("0.00")


def test_an_amount_too_large_to_store_names_its_line():
    # given
    huge = ItemRef(id=uuid.uuid4(), sku="HUGE", name="Huge", unit_price=MAX_AMOUNT)

    # when / then
    with pytest.raises(ValidationError) as line_error:
        lines_price(lines=[LineRequest(DIME.id, 1), LineRequest(huge.id, 2)], items={**ITEMS, huge.id: huge})
    with pytest.raises(ValidationError) as total_error:
        lines_price(lines=[LineRequest(huge.id, 1), LineRequest(DIME.id, 1)], items={**ITEMS, huge.id: huge})
    assert list(line_error.value.detail) == ["items.1.quantity"]
    assert list(total_error.value.detail) == ["items"]


def test_a_transition_refuses_other_statuses_naming_the_current_one():
    # given
    class Order:
        status = "Paid"

    cancel = Transition("cancel", {"Draft", "Confirmed"}, "Cancelled", stamp="cancelled_at")

    # when
    with pytest.raises(InvalidTransition) as refused:
        cancel.check(Order())

    # then
    assert refused.value.status_code == 409
    assert refused.value.details == [{"field": "status", "message": "order is Paid, expected Confirmed or Draft"}]
    assert refused.value.current == "Paid"
