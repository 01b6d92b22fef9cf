"""The order errors the envelope reports as 409, with the contract's ``details``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from common.exceptions import Conflict


class InvalidTransition(Conflict):
    """The order is not in a status the transition starts from: name the current one."""

    def __init__(self, current: str, expected: Iterable[str]):
        expected_text = " or ".join(sorted(expected))
        message = f"order is {current}, expected {expected_text}"
        super().__init__(f"The order is {current}.", details=[{"field": "status", "message": message}])
        self.current = current


class InsufficientStock(Conflict):
    """Some lines ask for more than is on hand: ``lines`` are ``(index, requested, available)``."""

    def __init__(self, lines: Sequence[tuple[int, int, int]]):
        details = [
            {
                "field": f"items.{index}.quantity",
                "message": f"insufficient_stock: requested {requested}, available {available}",
            }
            for index, requested, available in lines
        ]
        super().__init__(f"Insufficient stock for {len(details)} line(s).", details=details)
