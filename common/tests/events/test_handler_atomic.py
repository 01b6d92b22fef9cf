"""``handler_atomic``: a service that only event handlers call runs in the event's own transaction, with no
savepoint of its own, and a failure still rolls the event back whole (alone or in a batch's savepoint)."""

from __future__ import annotations

import uuid
from collections.abc import Container

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from common.events import handler_atomic, registry
from common.events.models import InboxEvent
from erp_testkit.events import deliver
from tests.events.conftest import order_data
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)


@handler_atomic
def effect_record(*, seq: int, fail: bool = False) -> None:
    AppliedEffect.objects.create(event_id=uuid.uuid4(), event_type="test", aggregate_id="a", seq=seq, attempt=1)
    if fail:
        raise RuntimeError("the service failed after its write")


def _handlers(*, failing: Container[int] = ()):
    def handle(event) -> None:
        seq = event.data.items[0].quantity
        effect_record(seq=seq, fail=seq in failing)

    return {registry.SALES_ORDER_CONFIRMED: handle}


def _deliver(seq: int, **handlers):
    return deliver(
        registry.SALES_ORDER_CONFIRMED, order_data(seq=seq), consumer="inventory", handlers=_handlers(**handlers)
    )


def test_the_service_writes_in_the_event_s_transaction_without_a_savepoint(postgres):
    # when
    with CaptureQueriesContext(connection) as delivering:
        assert _deliver(1).applied
    # then: written with the inbox row, and not one SAVEPOINT on the way
    assert list(AppliedEffect.objects.values_list("seq", flat=True)) == [1]
    assert InboxEvent.objects.count() == 1
    assert not [query["sql"] for query in delivering.captured_queries if "SAVEPOINT" in query["sql"]]


def test_a_failing_service_rolls_the_event_back_whole(postgres):
    # when
    with pytest.raises(RuntimeError, match="after its write"):
        _deliver(1, failing={1})
    # then: neither its write nor the inbox row (the consumer will retry the event)
    assert AppliedEffect.objects.count() == 0
    assert InboxEvent.objects.count() == 0


def test_in_a_batch_a_failing_event_rolls_back_alone(postgres):
    # given: three events applied in one transaction, each in its own savepoint, as the consumer's batches are
    with transaction.atomic():
        _deliver(1)
        with pytest.raises(RuntimeError):
            _deliver(2, failing={2})
        _deliver(3)
    # then: the second is gone whole, the others committed
    assert sorted(AppliedEffect.objects.values_list("seq", flat=True)) == [1, 3]
    assert InboxEvent.objects.count() == 2


def test_called_outside_a_transaction_the_service_is_one(postgres):
    # when
    with pytest.raises(RuntimeError):
        effect_record(seq=1, fail=True)
    # then
    assert AppliedEffect.objects.count() == 0
