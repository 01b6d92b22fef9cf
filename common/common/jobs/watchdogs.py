"""Every-minute watchdogs: what an operator should hear about before a customer does (docs/jobs.md).

Each logs a WARNING while something waits, and returns what it found. The same figures are
gauges in ``/metrics``, read when scraped (``erp_events_dead_letters``; sales_svc's
``erp_sales_orders_stuck_pending``), so an alert does not depend on these jobs running: the log
line is for the person reading the logs, the metric for the pager (docs/operations.md).
"""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger("common.jobs.watchdogs")

# Seconds to reach the broker: a watchdog that hangs would hold the worker's only job thread.
BROKER_TIMEOUT = 5.0


def dead_letters_watch() -> int:
    """Log a WARNING while this service's dead-letter queue holds events; return how many (0: none, or no DLQ here).

    Only a consuming service on RabbitMQ has one: elsewhere there is nothing to count.
    """
    from kombu import Connection

    from common.events import conf
    from common.events.health import queue_counts
    from common.events.topology import Topology

    if not (settings.BROKER_URL.startswith(("amqp", "pyamqp")) and conf.consumes()):
        return 0
    dlq = Topology().dlq_name(conf.consumer_name())
    with Connection(settings.BROKER_URL, connect_timeout=BROKER_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        waiting = queue_counts(connection).get(dlq, {}).get("messages", 0)
    if waiting:
        logger.warning(
            "%d dead-lettered event(s) in %s: `manage.py replay_dead_letters --dry-run` says why (docs/operations.md)",
            waiting,
            dlq,
        )
    return waiting
