"""Consumer-side handler of bench/events.py: after its commit, tell the bench which event was handled."""

import os
import socket

from django.db import transaction

from common.events import registry

_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
_target = ("127.0.0.1", int(os.environ.get("BENCH_EVENTS_PORT", "0")))


def handled(event) -> None:
    # The effect a real handler would write is the inbox row; report once it is committed.
    event_id = str(event.event_id).encode()
    transaction.on_commit(lambda: _sock.sendto(event_id, _target))


HANDLERS = {registry.SALES_ORDER_CONFIRMED: handled}
