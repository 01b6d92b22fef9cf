"""Look into a real broker's queues from tests (passive: nothing is declared or changed but what is read)."""

from __future__ import annotations

from kombu import Connection


def queue_depth(amqp_url: str, name: str) -> int:
    """Return how many messages wait in queue ``name`` (the queue must exist)."""
    with Connection(amqp_url) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def drain(amqp_url: str, name: str) -> list:
    """Take every waiting message out of queue ``name`` and return them."""
    messages = []
    with Connection(amqp_url) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get(name, no_ack=True)) is not None:
            messages.append(message)
    return messages
