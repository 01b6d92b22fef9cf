"""Look into a real broker's queues from tests, and delete what a test's Celery worker or a local run declared.

``queue_depth`` and ``drain`` are passive: nothing is declared or changed but what is read.
"""

from __future__ import annotations

from collections.abc import Iterable

from kombu import Connection


def queue_depth(amqp_url: str, name: str) -> int:
    """Return how many messages wait in queue ``name`` (the queue must exist)."""
    with Connection(amqp_url) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def publishing_connection(amqp_url: str) -> Connection:
    """A connection whose publishes return once the broker has the message queued (publisher confirms, as the relay's).

    Without confirms, a connection closed right after its publishes may lose some (RabbitMQ promises
    nothing then), and a test would wait for messages that never were queued.
    """
    return Connection(amqp_url, transport_options={"confirm_publish": True})


def drain(amqp_url: str, name: str) -> list:
    """Take every waiting message out of queue ``name`` and return them."""
    messages = []
    with Connection(amqp_url) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get(name, no_ack=True)) is not None:
            messages.append(message)
    return messages


def delete_job_names(amqp_url: str, queue: str) -> None:
    """Delete a Celery job queue (``<prefix><service>.jobs``, common.jobs) and the exchanges Celery declared for it.

    The worker declares an exchange of the queue's name, its remote-control ``<queue>.pidbox``
    and the replies' ``reply.<queue>.pidbox``; none goes with the queue, and a test run on a
    shared broker must leave none behind. RabbitMQ deletes a name that is not there without a
    complaint.
    """
    with Connection(amqp_url) as conn:
        channel = conn.default_channel
        channel.queue_delete(queue)
        for exchange in (queue, f"{queue}.pidbox", f"reply.{queue}.pidbox"):
            channel.exchange_delete(exchange)


def delete_run_names(amqp_url: str, prefix: str, services: Iterable[str]) -> None:
    """Delete what a local run on ``prefix`` declared: its event queues and exchanges, and each of ``services``'
    job queue with Celery's exchanges of the same name (common.jobs.app.service_queue: ``<prefix><service>.jobs``)."""
    from common.events.conf import DEFAULTS
    from common.events.topology import Topology

    with Connection(amqp_url) as conn:
        Topology(prefix=prefix, retry_delays=DEFAULTS["RETRY_DELAYS"]).delete(conn)
    for service in services:
        delete_job_names(amqp_url, f"{prefix}{service}.jobs")
