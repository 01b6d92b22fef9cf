"""The wiring checks itself: handler maps against subscriptions, the consumer name, handler-test delivery, versions."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from common.events import PoisonMessage, apply_if_newer, conf, registry
from common.events.checks import check_handlers
from common.events.models import InboxEvent
from erp_testkit.events import deliver, deliver_body
from tests.events.conftest import order_data
from tests.events.testapp.handlers import HANDLERS, record_effect
from tests.events.testapp.models import AppliedEffect, CustomerCopy

INVENTORY_HANDLERS = {**HANDLERS, registry.SALES_ORDER_CANCELLED: record_effect}
HANDLERS_PATH = "tests.events.test_wiring.INVENTORY_HANDLERS"


def _ids(settings, **events) -> list[str]:
    settings.ERP_EVENTS = events
    return [message.id for message in check_handlers()]


def test_a_complete_handler_map_passes_the_checks(settings):
    settings.SERVICE_NAME = "inventory"
    assert _ids(settings, HANDLERS=HANDLERS_PATH) == []


def test_a_handler_without_subscription_and_a_subscription_without_handler_are_errors(settings):
    # given: inventory handles a customer event it is not bound to, and lacks sales.order.cancelled
    settings.SERVICE_NAME = "inventory"
    settings.ERP_EVENTS = {"HANDLERS": {**HANDLERS, registry.CUSTOMER_CREATED: record_effect}}
    # when
    messages = check_handlers()
    # then
    assert [(m.id, m.msg) for m in messages] == [
        ("events.E003", "inventory has a handler for contact.customer.created@v1 but is not subscribed to it"),
        ("events.E004", "inventory is subscribed to sales.order.cancelled@v1 but has no handler for it"),
    ]
    with pytest.raises(SystemCheckError, match=r"events\.E003"):
        call_command("check")


def test_unimportable_handlers_unknown_consumers_and_silent_subscribers_are_reported(settings):
    settings.SERVICE_NAME = "inventory"
    assert _ids(settings, HANDLERS="tests.events.no_such_module.HANDLERS") == ["events.E001"]
    assert _ids(settings, HANDLERS={"sales.order.confirmed": record_effect}) == ["events.E001"]
    assert _ids(settings, HANDLERS=HANDLERS_PATH, CONSUMER="gateway") == ["events.E002"]
    assert _ids(settings) == ["events.W001"]
    settings.SERVICE_NAME = "contact"  # publishes only
    assert _ids(settings) == []


def test_the_consumer_is_the_service_unless_named_and_consuming_is_declared_by_handlers(settings):
    settings.SERVICE_NAME = "sales"
    settings.ERP_EVENTS = {}
    assert (conf.consumer_name(), conf.consumes()) == ("sales", False)
    settings.ERP_EVENTS = {"CONSUMER": "purchase", "HANDLERS": HANDLERS_PATH}
    assert (conf.consumer_name(), conf.consumes()) == ("purchase", True)


@pytest.mark.django_db
def test_deliver_applies_through_the_inbox_once_and_hands_out_typed_money(settings):
    # given
    settings.SERVICE_NAME = "inventory"
    settings.ERP_EVENTS = {"HANDLERS": HANDLERS_PATH}
    data = order_data(seq=4)
    # when: delivered, then redelivered with the same event id
    first = deliver(registry.SALES_ORDER_CONFIRMED, data, aggregate_version=3, correlation_id="req-9")
    again = deliver(registry.SALES_ORDER_CONFIRMED, data, event_id=first.event.event_id)
    # then
    assert (first.applied, again.applied) == (True, False)
    assert first.event.data == data
    assert first.event.data.items[0].subtotal == Decimal("4.00")
    assert (first.event.aggregate_id, first.event.aggregate_version) == (str(data.order_id), 3)
    assert list(AppliedEffect.objects.values_list("event_id", "seq")) == [(first.event.event_id, 4)]
    assert list(InboxEvent.objects.values_list("event_id", "consumer", "correlation_id")) == [
        (first.event.event_id, "inventory", "req-9")
    ]


@pytest.mark.django_db
def test_deliver_refuses_what_the_consumer_would_dead_letter_and_writes_nothing(settings):
    settings.SERVICE_NAME = "inventory"
    settings.ERP_EVENTS = {"HANDLERS": HANDLERS_PATH}
    bad = {"order_id": uuid.uuid4(), "customer_id": uuid.uuid4(), "total_amount": "1.00", "items": []}
    with pytest.raises(PoisonMessage, match="total_amount: expected an exact amount"):
        deliver(registry.SALES_ORDER_CONFIRMED, bad)
    with pytest.raises(PoisonMessage, match=r"bad JSON"):
        deliver_body(b"{nope")
    assert (AppliedEffect.objects.count(), InboxEvent.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_a_failing_handler_leaves_no_inbox_record(settings):
    # given: the order's handler fails (its customer steers it so), as the consumer would retry
    settings.SERVICE_NAME = "inventory"
    settings.ERP_EVENTS = {"HANDLERS": HANDLERS_PATH}
    # when / then
    with pytest.raises(RuntimeError, match="handler failure"):
        deliver(registry.SALES_ORDER_CONFIRMED, order_data(seq=1, behaviour="fail-always"))
    assert (AppliedEffect.objects.count(), InboxEvent.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_apply_if_newer_keeps_the_newest_version_whatever_the_arrival_order():
    # given: a copy that has seen version 2
    customer_id = uuid.uuid4()
    CustomerCopy.objects.create(customer_id=customer_id, name="v2", source_version=2)
    copies = CustomerCopy.objects.filter(customer_id=customer_id)
    # when: version 1 arrives late, version 2 again, then version 4
    late = apply_if_newer(copies, version=1, values={"name": "v1"})
    duplicate = apply_if_newer(copies, version=2, values={"name": "v2 again"})
    newer = apply_if_newer(copies, version=4, values={"name": "v4"})
    # then
    assert (late, duplicate, newer) == (0, 0, 1)
    assert CustomerCopy.objects.values_list("name", "source_version").get() == ("v4", 4)


@pytest.mark.django_db
def test_apply_if_newer_treats_a_copy_without_version_as_older():
    copy = CustomerCopy.objects.create(customer_id=uuid.uuid4(), name="unknown", source_version=None)
    assert apply_if_newer(CustomerCopy.objects.filter(pk=copy.pk), version=1, values={"name": "v1"}) == 1
    assert CustomerCopy.objects.values_list("name", "source_version").get() == ("v1", 1)
