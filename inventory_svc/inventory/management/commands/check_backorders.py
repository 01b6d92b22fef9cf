"""``manage.py check_backorders FILE``: backorders and issues agree with themselves and with sales_svc's orders.

``FILE`` (``-`` for stdin) is what sales_svc's ``check_backorders --export`` wrote: each
confirmed order's stock status and, per item, what it ordered and what sales holds as
issued and backordered. Checked here (contract §5, backorders)::

    sales:     manage.py check_backorders --export orders.json
    inventory: manage.py check_backorders orders.json

- inside inventory: an item's ``backordered`` is the sum of its open backorders, no item
  has stock on hand while an order waits for it, every backorder's filled quantity is
  the sum of its fill movements;
- against sales: for every order and item, issued (the ledger) + still backordered +
  dropped by cancellation = ordered (nothing at all for a ``short`` order), sales shows the
  ledger's issued and the backorder's open quantity, a ``returned`` order was given
  back exactly what was issued and waits for nothing; an order still ``pending`` at sales
  has no decision here; and the ledger names no sales order that sales does not know.

Run it once the events are delivered (``outbox_status`` at 0 on both services): a
figure still on its way is reported as a difference. Prints every difference and
exits 1; changes nothing.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inventory.models import SalesOrderIssue
from inventory.selectors import OrderItemStock, backorder_discrepancies, sales_order_stock


@dataclass(frozen=True)
class SalesItem:
    ordered: int
    issued: int
    backordered: int


@dataclass(frozen=True)
class SalesOrder:
    status: str
    stock_status: str
    items: dict[uuid.UUID, SalesItem]


class Command(BaseCommand):
    help = "Check backorders and issues inside inventory and against sales_svc's export (exit 1 if they differ)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="sales_svc's check_backorders --export JSON, or - for stdin.")

    def handle(self, *args, file: str, **options) -> None:
        orders = _orders(sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8"))
        problems = backorder_discrepancies() + _against_sales(orders)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} backorder difference(s).")
        self.stdout.write(f"backorders: {len(orders)} confirmed order(s) checked, inventory and sales agree")


def _against_sales(orders: dict[uuid.UUID, SalesOrder]) -> list[str]:
    held = sales_order_stock()
    decided = set(SalesOrderIssue.objects.values_list("order_id", flat=True))
    problems = [
        f"order {order_id} item {item_id}: in inventory's ledger or backorders, unknown to sales"
        for order_id, item_id in sorted(held, key=str)
        if order_id not in orders
    ]
    for order_id, order in sorted(orders.items(), key=lambda pair: str(pair[0])):
        if order.stock_status == "pending":
            if order_id in decided:
                problems.append(f"order {order_id}: pending at sales, decided at inventory (an answer not applied)")
            continue
        for item_id, wanted in sorted(order.items.items(), key=lambda pair: str(pair[0])):
            found = held.get((order_id, item_id), OrderItemStock())
            problems += [
                f"order {order_id} ({order.stock_status}) item {item_id}: {problem}"
                for problem in _item_problems(order.stock_status, wanted, found)
            ]
    return problems


def _item_problems(stock_status: str, wanted: SalesItem, found: OrderItemStock) -> list[str]:
    problems = []
    if stock_status == "short":
        expected = OrderItemStock()
        if found != expected:
            problems.append(f"short, yet inventory holds {found}")
        return problems
    if found.issued + found.open + found.dropped != wanted.ordered:
        problems.append(
            f"ordered {wanted.ordered}, but issued {found.issued} + backordered {found.open} + dropped {found.dropped}"
        )
    if wanted.issued != found.issued:
        problems.append(f"sales shows {wanted.issued} issued, the ledger {found.issued}")
    if wanted.backordered != found.open:
        problems.append(f"sales shows {wanted.backordered} backordered, inventory {found.open}")
    if stock_status == "returned" and (found.given_back != found.issued or found.open):
        problems.append(f"returned, yet {found.issued} issued, {found.given_back} given back, {found.open} waiting")
    if stock_status != "returned" and found.given_back:
        problems.append(f"{stock_status}, yet {found.given_back} given back")
    return problems


def _orders(text: str) -> dict[uuid.UUID, SalesOrder]:
    try:
        return {
            uuid.UUID(row["order_id"]): SalesOrder(
                status=str(row["status"]),
                stock_status=str(row["stock_status"]),
                items={
                    uuid.UUID(item["item_id"]): SalesItem(
                        ordered=int(item["ordered"]), issued=int(item["issued"]), backordered=int(item["backordered"])
                    )
                    for item in row["items"]
                },
            )
            for row in json.loads(text)["orders"]
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"not what sales_svc's check_backorders --export writes: {exc}") from exc
