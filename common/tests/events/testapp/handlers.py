"""Handlers of the test consumer ("inventory" queue), steered by the order's ``customer_id``.

- ``FAIL_ALWAYS``: raise every time (ends in the DLQ);
- ``FAIL_ONCE``: raise on the first attempt only;
- ``SLOW``: take 1.5 s (to stop a consumer mid-message);
- any other customer: record an :class:`AppliedEffect`. ``items[0].quantity`` orders events (``seq``).
"""

import time
import uuid

from common.events import Event, registry

from .models import AppliedEffect

OK = uuid.UUID(int=1)
FAIL_ALWAYS = uuid.UUID(int=2)
FAIL_ONCE = uuid.UUID(int=3)
SLOW = uuid.UUID(int=4)
BEHAVIOURS = {"ok": OK, "fail-always": FAIL_ALWAYS, "fail-once": FAIL_ONCE, "slow": SLOW}


def record_effect(event: Event) -> None:
    behaviour = event.data.customer_id
    if behaviour == FAIL_ALWAYS or (behaviour == FAIL_ONCE and event.attempt == 1):
        name = next(key for key, value in BEHAVIOURS.items() if value == behaviour)
        raise RuntimeError(f"handler failure ({name})")
    if behaviour == SLOW:
        time.sleep(1.5)
    AppliedEffect.objects.create(
        event_id=event.event_id,
        event_type=event.event_type.name,
        aggregate_id=str(event.data.order_id),
        seq=event.data.items[0].quantity if event.data.items else 0,
        attempt=event.attempt,
    )


HANDLERS = {
    registry.SALES_ORDER_CONFIRMED: record_effect,
    registry.SALES_ORDER_CONFIRMED_V2: record_effect,
    registry.PURCHASE_ORDER_RECEIVED: record_effect,
    registry.PURCHASE_ORDER_RECEIVED_V2: record_effect,
}
