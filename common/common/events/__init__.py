"""The event backbone: transactional outbox, relay, topology and idempotent consumer (CONTRACT §6).

Publishing (inside the transaction that makes the change)::

    from django.db import transaction
    from common.events import publish_event, registry

    with transaction.atomic():
        customer = Customer.objects.create(...)
        publish_event(registry.CUSTOMER_CREATED, aggregate_id=str(customer.id), data={...})

``data`` must have exactly the fields the event type declares; Decimal, UUID and
aware datetimes are encoded exactly. Outside ``transaction.atomic()`` it raises
``TransactionRequired``. The row is published by ``manage.py relay_outbox``.

Consuming: a service names its consumer and handler map in settings::

    INSTALLED_APPS += ["common.events"]
    ERP_EVENTS = {"CONSUMER": "inventory", "HANDLERS": "inventory.handlers.HANDLERS"}

    # inventory/handlers.py
    HANDLERS = {registry.SALES_ORDER_CONFIRMED: handle_order_confirmed}

    def handle_order_confirmed(event: Event) -> None:   # event.data, event.event_id, ...
        stock_issue_for_order(...)

``manage.py consume_events`` runs each handler inside ``transaction.atomic()``
together with an ``InboxEvent`` row (unique per event and consumer), acks after the
commit, skips duplicates, retries failures with growing delays and then
dead-letters them. Handlers must only write to the service's database (or be
idempotent themselves) and may publish events of their own.

Settings (``ERP_EVENTS``, defaults in ``common.events.conf``): ``CONSUMER``,
``HANDLERS``, ``PREFIX`` (or env ``ERP_EVENTS_PREFIX``), ``RETRY_DELAYS`` (or env
``ERP_EVENTS_RETRY_DELAYS="1,5,30"``), ``PREFETCH``, ``MAX_DB_RETRIES`` (database
errors retried at the longest delay before the DLQ), ``RELAY_BATCH_SIZE``, ``RELAY_SWEEP_INTERVAL``,
``RELAY_BACKOFF_INITIAL``/``_MAX``, ``PUBLISH_TIMEOUT``, ``HEARTBEAT``, ``WAKEUP``,
``WAKEUP_HOST``/``_PORT``, ``OUTBOX_MAX_AGE``. The broker is ``settings.BROKER_URL``.

Operations: ``relay_outbox``, ``consume_events``, ``outbox_status``,
``replay_dead_letters``, ``prune_events``; readiness check
``common.events.health.check_outbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import registry
from .envelope import Event, EventDataError, PoisonMessage
from .registry import EventType

if TYPE_CHECKING:
    from .models import OutboxEvent

__all__ = ["Event", "EventDataError", "EventType", "PoisonMessage", "TransactionRequired", "publish_event", "registry"]


def publish_event(event_type: EventType, *, data: dict[str, Any], aggregate_id: str, **kwargs: Any) -> OutboxEvent:
    """Record an event in the outbox inside the current transaction (see :mod:`common.events.outbox`)."""
    from .outbox import publish_event as _publish_event

    return _publish_event(event_type, data=data, aggregate_id=aggregate_id, **kwargs)


def __getattr__(name: str) -> Any:
    # Imported lazily: models cannot load before the app registry is ready.
    if name == "TransactionRequired":
        from .outbox import TransactionRequired

        return TransactionRequired
    raise AttributeError(name)
