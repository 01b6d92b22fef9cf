"""Handlers of the test consumer ("inventory" queue). Behaviour is steered by ``data["customer_id"]``.

- ``"fail-always"``: raise every time (ends in the DLQ);
- ``"fail-once"``: raise on the first attempt only;
- ``"slow"``: take 1.5 s (to stop a consumer mid-message);
- anything else: record an :class:`AppliedEffect`. ``data["items"][0]["seq"]`` orders events.
"""

import time

from common.events import Event, registry

from .models import AppliedEffect


def record_effect(event: Event) -> None:
    behaviour = event.data.get("customer_id")
    if behaviour == "fail-always" or (behaviour == "fail-once" and event.attempt == 1):
        raise RuntimeError(f"handler failure ({behaviour})")
    if behaviour == "slow":
        time.sleep(1.5)
    AppliedEffect.objects.create(
        event_id=event.event_id,
        event_type=event.event_type.name,
        aggregate_id=str(event.data["order_id"]),
        seq=int(event.data["items"][0]["seq"]) if event.data.get("items") else 0,
        attempt=event.attempt,
    )


HANDLERS = {registry.SALES_ORDER_CONFIRMED: record_effect, registry.PURCHASE_ORDER_RECEIVED: record_effect}
