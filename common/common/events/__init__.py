"""The event backbone: transactional outbox, relay, topology and idempotent consumer (contract §6).

Publishing, inside the transaction that makes the change, after locking the
aggregate's row and bumping its version in the same UPDATE::

    from django.db import transaction
    from common.events import publish_event, registry

    with transaction.atomic():
        customer = Customer.objects.create(...)
        publish_event(
            registry.CUSTOMER_CREATED,
            data=registry.CustomerData(customer_id=customer.id, name=..., email=..., phone=..., address=...),
            aggregate_id=customer.id,
            aggregate_version=customer.version,
        )

``data`` is the frozen dataclass the event type declares (``registry``), checked on
publish (``EventDataError``) and again on receipt (a mismatch is dead-lettered).
Outside ``transaction.atomic()`` it raises ``TransactionRequired``; for an event
another service produces, ``ForeignEvent``. The row is published by ``manage.py
relay_outbox``. Delivery is **at least once and unordered**: consumers deduplicate
on ``event_id`` (the inbox) and compare ``aggregate_version`` (:func:`apply_if_newer`).

Consuming: a service names its handler map in settings (the consumer name defaults
to ``SERVICE_NAME``; naming ``HANDLERS`` is what makes the service run a consumer)::

    ERP_EVENTS = {"HANDLERS": "inventory.handlers.HANDLERS"}

    # inventory/handlers.py
    HANDLERS = {registry.SALES_ORDER_CONFIRMED: handle_order_confirmed, ...}

    def handle_order_confirmed(event: Event) -> None:   # event.data: registry.SalesOrderConfirmedData
        stock_issue_for_order(order_id=event.data.order_id, lines=event.data.items)

The system checks of :mod:`common.events.checks` hold the map to
``registry.SUBSCRIPTIONS`` in both directions. ``manage.py consume_events`` runs each
handler inside ``transaction.atomic()`` together with an ``InboxEvent`` row (unique
per event and consumer), acks after the commit, skips duplicates, retries failures
with growing delays and then dead-letters them. Handlers must only write to the
service's database (or be idempotent themselves) and may publish events of their
own. Handler tests deliver through the same path with ``erp_testkit.events``.

Settings (``ERP_EVENTS``, defaults in ``common.events.conf``): ``CONSUMER``,
``HANDLERS``, ``PREFIX`` (or env ``ERP_EVENTS_PREFIX``), ``RETRY_DELAYS`` (or env
``ERP_EVENTS_RETRY_DELAYS="1,5,30"``), ``PREFETCH``, ``MAX_DB_RETRIES`` (database
errors retried at the longest delay before the DLQ), ``RELAY_BATCH_SIZE``,
``RELAY_SWEEP_INTERVAL``, ``RELAY_BACKOFF_INITIAL``/``_MAX``, ``PUBLISH_TIMEOUT``,
``HEARTBEAT``, ``WAKEUP``, ``WAKEUP_HOST``/``_PORT``, ``OUTBOX_MAX_AGE``. The broker
is ``settings.BROKER_URL``.

Operations: ``relay_outbox``, ``consume_events``, ``outbox_status``,
``replay_dead_letters``, ``prune_events``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction

from . import registry
from .envelope import Event, EventDataError, PoisonMessage
from .registry import EventType
from .versions import apply_if_newer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .models import OutboxEvent
    from .outbox import PendingEvent

__all__ = [
    "Event",
    "EventDataError",
    "EventType",
    "ForeignEvent",
    "PendingEvent",
    "PoisonMessage",
    "TransactionRequired",
    "apply_if_newer",
    "handler_atomic",
    "publish_event",
    "publish_events",
    "registry",
]


def publish_event(
    event_type: EventType, *, data: Any, aggregate_id: Any, aggregate_version: int, **kwargs: Any
) -> OutboxEvent:
    """Record an event in the outbox inside the current transaction (see :func:`common.events.outbox.publish_event`).

    The publisher locks the aggregate's row and bumps its version first.
    """
    from .outbox import publish_event as _publish_event

    return _publish_event(
        event_type, data=data, aggregate_id=aggregate_id, aggregate_version=aggregate_version, **kwargs
    )


def publish_events(events: Sequence[PendingEvent], **kwargs: Any) -> list[OutboxEvent]:
    """Record many events at once, as ``publish_event`` one by one (see :func:`common.events.outbox.publish_events`)."""
    from .outbox import publish_events as _publish_events

    return _publish_events(events, **kwargs)


Service = TypeVar("Service", bound=Callable[..., Any])


def handler_atomic(service: Service) -> Service:
    """``transaction.atomic`` for a service that only event handlers call: no savepoint inside the event's transaction.

    The consumer applies each event in a transaction of its own (in a batch, a savepoint of the
    batch's), which a failure rolls back whole with the event's inbox row, so a savepoint of the
    service's own would only add two round trips (SAVEPOINT, RELEASE) to every event. Called
    outside a transaction (a test, a shell), it is one. Not for a service whose caller goes on
    after catching its error: that caller needs the savepoint to have rolled the service back.
    """
    return transaction.atomic(savepoint=False)(service)


def __getattr__(name: str) -> Any:
    # Imported lazily: models cannot load before the app registry is ready.
    if name in ("TransactionRequired", "ForeignEvent", "PendingEvent"):
        from . import outbox

        return getattr(outbox, name)
    raise AttributeError(name)
