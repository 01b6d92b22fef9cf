"""order_documents: exact line pricing, the transition mechanics, no HTTP layer, nothing naming sales or purchase."""

from __future__ import annotations

import ast
import re
import subprocess
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

import erp_testkit
import order_documents
from common.exceptions import InvalidTransition, ValidationFailed
from order_documents.lines import MAX_AMOUNT, ItemRef, LineRequest, lines_price, lines_total
from order_documents.machine import Transition

DIME = ItemRef(id=uuid.uuid4(), sku="DIME", name="Dime", unit_price=Decimal("0.10"))
PRICEY = ItemRef(id=uuid.uuid4(), sku="PRICEY", name="Pricey", unit_price=Decimal("5.00"))
ITEMS = {DIME.id: DIME, PRICEY.id: PRICEY}

MODULES = {
    "__init__.py",
    "documents.py",
    "forms.py",
    "lines.py",
    "machine.py",
    "models.py",
    "parties.py",
    "references.py",
}


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
    paths = list(Path(order_documents.__file__).parent.glob("*.py"))

    # then none of them names a service, its domain or its party
    offenders = {path.name for path in paths if re.search(r"sales|purchas|customer|vendor", _code(path), re.I)}
    assert {path.name for path in paths} == MODULES
    assert offenders == set()


def test_the_package_has_no_http_layer_admin_filters_or_seeding():
    # given the modules every import of the shared package names
    paths = Path(order_documents.__file__).parent.glob("*.py")
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for path in paths
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }

    # then views, serializers, FilterSets, the admin and commands are each service's own
    forbidden = r"^(rest_framework|django_filters|django\.contrib\.admin|drf_spectacular|django\.core\.management)"
    assert {module for module in imported if module and re.match(forbidden, module)} == set()


# The steps of creating an order and of copying a party's new name, in the order they must run:
# what a service calls instead is order_documents.documents.order_create and parties.party_rename.
ORDER_STEPS = {
    "party_version_known",
    "party_and_lines_checked",
    "party_name_for_new_order",
    "lines_write",
    "party_version_remember",
    "apply_if_newer",
}
ORDER_SERVICES = ("sales_svc/sales", "purchase_svc/purchasing")


def test_the_services_take_the_order_steps_through_one_home():
    # given every module of the two order services, their tests aside
    repository = Path(order_documents.__file__).parents[2]
    paths = [
        path
        for folder in ORDER_SERVICES
        for path in (repository / folder).rglob("*.py")
        if "tests" not in path.relative_to(repository / folder).parts
    ]

    # then none imports a step of creating an order or renaming its party: each calls the one function
    imported = {
        (path.relative_to(repository).as_posix(), alias.name)
        for path in paths
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name in ORDER_STEPS
    }
    assert len(paths) >= 20
    assert sorted(imported) == []


def _defined_names(tree: ast.Module) -> set[str]:
    """Module-level public names a module defines, but the classes Django finds itself (decorated, apps, commands)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and not node.decorator_list:
            if not any(ast.unparse(base).endswith(("AppConfig", "BaseCommand")) for base in node.bases):
                names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return {name for name in names if not name.startswith("_") and name != "logger"}


def test_every_name_the_order_modules_define_is_used():
    # given the modules of order_documents and of the two order services, their tests and migrations aside
    repository = Path(order_documents.__file__).parents[2]
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=repository, capture_output=True, text=True, check=True)
    sources = {repository / name: (repository / name).read_text() for name in listed.stdout.split()}
    folders = [repository / "common" / "order_documents", *(repository / folder for folder in ORDER_SERVICES)]
    modules = [
        path
        for folder in folders
        for path in folder.rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(folder).parts)
    ]

    # then each name they define is used: in its own module, or in another module than its twin's definition
    words = {path: Counter(re.findall(r"\w+", text)) for path, text in sources.items()}

    def uses(name: str, path: Path) -> int:
        if not words[path][name]:
            return 0
        defined = re.search(rf"^(?:def |class )?{name}\b(?: =|\(|:)", sources[path], flags=re.MULTILINE)
        return words[path][name] - (1 if defined else 0)

    unused = {
        (path.relative_to(repository).as_posix(), name)
        for path in modules
        for name in _defined_names(ast.parse(sources[path]))
        if not any(uses(name, other) for other in sources)
    }
    assert len(modules) >= 25
    assert sorted(unused) == []


def test_the_test_kit_holds_no_test_cases():
    # given every module of the test kit
    paths = list(Path(erp_testkit.__file__).parent.glob("*.py"))

    # then none defines a function or class pytest would collect
    names = {
        f"{path.name}:{node.name}"
        for path in paths
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.lower().startswith("test")
    }
    assert len(paths) >= 10
    assert names == set()


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
    with pytest.raises(ValidationFailed) as line_error:
        lines_price(lines=[LineRequest(DIME.id, 1), LineRequest(huge.id, 2)], items={**ITEMS, huge.id: huge})
    with pytest.raises(ValidationFailed) as total_error:
        lines_price(lines=[LineRequest(huge.id, 1), LineRequest(DIME.id, 1)], items={**ITEMS, huge.id: huge})
    assert line_error.value.status_code == total_error.value.status_code == 400
    assert line_error.value.details == [
        {"field": "items.1.quantity", "message": f"The subtotal would exceed {MAX_AMOUNT}."}
    ]
    assert total_error.value.details == [{"field": "items", "message": f"The total would exceed {MAX_AMOUNT}."}]


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
