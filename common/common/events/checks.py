"""System checks of the event wiring: a service's handler map matches its subscriptions.

A subscribed type without a handler would only be found when its first message is
dead-lettered, a handler without a subscription never receives anything: both are
errors at ``manage.py check`` (so at ``migrate`` and every start), and every service's
``test_system_checks_pass`` holds them.

- ``events.E001``: ``HANDLERS`` cannot be imported or is not a map of event types.
- ``events.E002``: the consumer (``CONSUMER``, else ``SERVICE_NAME``) has no entry in
  ``registry.SUBSCRIPTIONS``.
- ``events.E003``: a handler for a type the consumer is not subscribed to.
- ``events.E004``: a subscribed type without a handler.
- ``events.W001``: the service is subscribed to events but names no ``HANDLERS``, so
  no consumer runs for it (the state of a service before its handlers are written).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from . import conf
from .registry import SUBSCRIPTIONS, EventType


@register(Tags.compatibility, "events")
def check_handlers(app_configs=None, **kwargs):
    consumer = conf.consumer_name()
    path = conf.get("HANDLERS")
    if not path:
        if consumer in SUBSCRIPTIONS:
            return [
                Warning(
                    f"{consumer} is subscribed to {[str(t) for t in SUBSCRIPTIONS[consumer]]} but names no "
                    'ERP_EVENTS["HANDLERS"]: no consumer runs for it',
                    id="events.W001",
                )
            ]
        return []
    try:
        handlers = import_string(path) if isinstance(path, str) else path
    except ImportError as exc:
        return [Error(f'ERP_EVENTS["HANDLERS"] = {path!r} cannot be imported: {exc}', id="events.E001")]
    if not isinstance(handlers, Mapping) or not all(isinstance(key, EventType) for key in handlers):
        return [Error(f"{path} must be a dict of registry event types to callables", id="events.E001")]
    if consumer not in SUBSCRIPTIONS:
        return [Error(f"consumer {consumer!r} is not in registry.SUBSCRIPTIONS", id="events.E002")]
    subscribed = set(SUBSCRIPTIONS[consumer])
    errors = [
        Error(f"{consumer} has a handler for {event_type} but is not subscribed to it", id="events.E003")
        for event_type in handlers
        if event_type not in subscribed
    ]
    errors += [
        Error(f"{consumer} is subscribed to {event_type} but has no handler for it", id="events.E004")
        for event_type in SUBSCRIPTIONS[consumer]
        if event_type not in handlers
    ]
    return errors
