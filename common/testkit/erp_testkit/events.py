"""Deliver an event to a service's handler in a test, through the consumer's real inbox path.

A handler test calls :func:`deliver` instead of calling the handler: the event is
encoded exactly as ``publish_event`` writes it (so money comes back as
``Decimal("10.00")`` even when sent as ``10``), parsed and checked as the consumer
parses it, and applied by the consumer's own :func:`common.events.consumer.apply_event`
(inbox row and handler in one transaction)::

    from common.events import registry
    from erp_testkit.events import deliver

    def test_confirmed_order_issues_stock(item):
        # given
        data = registry.SalesOrderConfirmedData(order_id=ORDER, customer_id=CUSTOMER, total_amount=..., items=(...))
        # when
        first = deliver(registry.SALES_ORDER_CONFIRMED, data)
        again = deliver(registry.SALES_ORDER_CONFIRMED, data, event_id=first.event.event_id)  # a redelivery
        # then
        assert (first.applied, again.applied) == (True, False)

The handler comes from the service's ``ERP_EVENTS["HANDLERS"]`` (or ``handlers=``).
Data that does not match the declaration raises :class:`~common.events.PoisonMessage`
with the reason the consumer would dead-letter it with; a handler's exception
propagates (the consumer would retry it), its writes rolled back with the inbox row.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from common.events import EventDataError, PoisonMessage, conf, envelope
from common.events.consumer import Handler, apply_event, load_handlers
from common.events.envelope import Event
from common.events.registry import EventType


@dataclass(frozen=True)
class Delivery:
    """What :func:`deliver` did: the event as the handler received it, and whether it was applied."""

    event: Event
    applied: bool  # False: the inbox already held this event_id (a duplicate), the handler did not run


def deliver(
    event_type: EventType,
    data: Any,
    *,
    aggregate_id: Any = None,
    aggregate_version: int = 1,
    event_id: uuid.UUID | None = None,
    correlation_id: str | None = None,
    attempt: int = 1,
    handlers: Mapping[EventType, Handler] | str | None = None,
    consumer: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Delivery:
    """Deliver one event to this service's handler for ``event_type`` and return the :class:`Delivery`.

    ``data`` is the declared data class (or a mapping of its fields; an invalid one
    raises PoisonMessage). ``aggregate_id`` defaults to the data's first field (the id
    of the record the event is about: ``order_id``, ``customer_id``, ``item_id``).
    Pass the ``event_id`` of an earlier delivery to test a redelivery.
    """
    consumer = consumer or conf.consumer_name()
    handler = load_handlers(consumer, handlers).get(event_type)
    if handler is None:
        raise LookupError(f"{consumer} has no handler for {event_type}")
    fields = data if isinstance(data, Mapping) else {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    if aggregate_id is None:
        aggregate_id = next(iter(fields.values()), None)
    try:
        _, body = envelope.build(
            event_type,
            data=data,
            aggregate_id=str(aggregate_id),
            aggregate_version=aggregate_version,
            event_id=event_id,
            correlation_id=correlation_id,
        )
    except EventDataError as exc:
        raise PoisonMessage(str(exc)) from None
    event = envelope.parse(body, attempt=attempt)
    return Delivery(event=event, applied=apply_event(event, handler, consumer=consumer, using=using))


def deliver_body(
    body: bytes | str,
    *,
    handlers: Mapping[EventType, Handler] | str | None = None,
    consumer: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Delivery:
    """Deliver a raw message body (say, one another service's publisher wrote) the same way."""
    consumer = consumer or conf.consumer_name()
    event = envelope.parse(body)
    handler = load_handlers(consumer, handlers).get(event.event_type)
    if handler is None:
        raise PoisonMessage(f"{consumer} has no handler for {event.event_type}")
    return Delivery(event=event, applied=apply_event(event, handler, consumer=consumer, using=using))
