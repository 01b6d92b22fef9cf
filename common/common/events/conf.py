"""The ``ERP_EVENTS`` settings dict, with defaults (read on each call, so tests can override)."""

from __future__ import annotations

import os
import zlib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

DEFAULTS: dict[str, Any] = {
    # Consumer name (one of registry.SUBSCRIPTIONS; None: settings.SERVICE_NAME) and the
    # dotted path of its handler map. A service consumes events if and only if it names
    # HANDLERS: the local run and compose start a consumer process for exactly those.
    "CONSUMER": None,
    "HANDLERS": None,
    # Prefix of every exchange and queue name; lets tests and benchmarks use a private topology.
    "PREFIX": "",
    # Delays (seconds) of the successive retries of a failing message; after the last, the DLQ.
    "RETRY_DELAYS": [1.0, 5.0, 30.0],
    # Pauses (seconds) before each in-place retry of a handler that found the database away or
    # busy (common.exceptions.database_away): a blip costs a fraction of a second, not a delay queue.
    "DB_RETRY_PAUSES": [0.1, 0.5, 2.0],
    # Then retries at the longest delay, counted apart from RETRY_DELAYS, then the DLQ:
    # 720 at 30 s is six hours of database trouble before an event needs replay_dead_letters.
    "MAX_DB_RETRIES": 720,
    "PREFETCH": 20,
    # Messages applied in one transaction (consumer.py's "Batches"): 1 is one transaction per
    # message. More commits once for up to that many already-delivered messages, each in a
    # savepoint with its inbox row: what lifts the limit of one hot row lock per commit.
    # BATCH_WAIT is how long (seconds) the consumer waits for a next delivered message
    # before it applies a partial batch of two or more; a lone message waits BATCH_LONE_WAIT
    # for a second, never more than BATCH_WAIT. 0 by default: a lone message takes with it
    # what has arrived already (a backlog's next messages) and is applied at once, so that an
    # idle queue's event waits for nothing (waiting 0.5 ms cost confirm -> stock visible 1.5-3 ms:
    # docs/performance.md). Negative values are refused when the consumer starts.
    # BATCH_LOCK the dotted path of a callable given the batch's events that takes their
    # locks first, in the service's lock order.
    "BATCH_SIZE": 1,
    "BATCH_WAIT": 0.005,
    "BATCH_LONE_WAIT": 0.0,
    "BATCH_LOCK": None,
    # Deliveries of one message the service queue allows before the broker dead-letters it
    # (a message that kills its consumer each time); RabbitMQ 4's own default, made explicit.
    "DELIVERY_LIMIT": 20,
    # Largest message body published or accepted (bytes): a larger one is refused by
    # publish_event and dead-lettered by the consumer before it is parsed.
    "MAX_MESSAGE_BYTES": 1024 * 1024,
    # Rows per relay transaction: also what a relay killed mid-batch publishes twice.
    "RELAY_BATCH_SIZE": 50,
    # The sweep guarantees progress when a wake-up is missed (another host, a lost datagram).
    "RELAY_SWEEP_INTERVAL": 1.0,
    "RELAY_BACKOFF_INITIAL": 0.5,
    "RELAY_BACKOFF_MAX": 15.0,
    # Seconds a publisher confirm may take before the relay or consumer gives up on the link.
    "PUBLISH_TIMEOUT": 5.0,
    # Seconds any other broker call may take: connect and handshake, each socket read and
    # write (every declare, consume, cancel), so a half-open link is noticed (see broker.py).
    "BROKER_TIMEOUT": 5.0,
    # AMQP heartbeat (seconds) of the relay's and the consumer's connections; 0 turns it off.
    "HEARTBEAT": 10,
    # How a commit that wrote events wakes the relay: "auto" (PostgreSQL: "notify",
    # pg_notify in the transaction, any host; otherwise "udp", a datagram after the
    # commit, this host only), "notify", "udp" or "none" (the sweep alone).
    "WAKEUP": "auto",
    "WAKEUP_HOST": "127.0.0.1",
    "WAKEUP_PORT": None,  # None: derived from the database, so services on one host differ
    # A relay or consumer touches this file on every turn of its loop; ``manage.py
    # worker_health`` (a liveness probe) fails once it is older than WORKER_MAX_AGE.
    # None: ``<data dir>/workers/<service>-<relay|consumer>.alive``.
    "WORKER_HEARTBEAT_FILE": None,
    "WORKER_MAX_AGE": 60.0,
}


def events_settings() -> dict[str, Any]:
    merged = dict(DEFAULTS)
    if os.environ.get("ERP_EVENTS_PREFIX"):
        merged["PREFIX"] = os.environ["ERP_EVENTS_PREFIX"]
    if os.environ.get("ERP_EVENTS_WAKEUP"):
        merged["WAKEUP"] = os.environ["ERP_EVENTS_WAKEUP"]
    if os.environ.get("ERP_WORKER_HEARTBEAT_FILE"):
        # One file per replica when several run on one host (the local run's ERP_WORKER_REPLICAS).
        merged["WORKER_HEARTBEAT_FILE"] = os.environ["ERP_WORKER_HEARTBEAT_FILE"]
    if os.environ.get("ERP_EVENTS_BATCH_SIZE"):
        merged["BATCH_SIZE"] = int(os.environ["ERP_EVENTS_BATCH_SIZE"])
    if os.environ.get("ERP_EVENTS_RETRY_DELAYS"):
        merged["RETRY_DELAYS"] = [float(part) for part in os.environ["ERP_EVENTS_RETRY_DELAYS"].split(",")]
    merged.update(getattr(settings, "ERP_EVENTS", {}) or {})
    return merged


def get(name: str) -> Any:
    return events_settings()[name]


def consumer_name() -> str:
    """Return this service's consumer name: ``CONSUMER``, else ``settings.SERVICE_NAME``."""
    return get("CONSUMER") or settings.SERVICE_NAME


def consumes() -> bool:
    """True if this service's settings name a handler map, i.e. it runs a consumer."""
    return bool(get("HANDLERS"))


def worker_roles() -> list[str]:
    """Return the event workers this service runs: ``relay`` if it has the outbox, ``consumer`` if it has handlers."""
    if not apps.is_installed("common.events"):
        return []
    return ["relay", "consumer"] if consumes() else ["relay"]


def wakeup_mode(using: str = DEFAULT_DB_ALIAS) -> str:
    mode = get("WAKEUP")
    if mode == "auto":
        return "notify" if connections[using].vendor == "postgresql" else "udp"
    if mode not in ("notify", "udp", "none"):
        raise ValueError(f'ERP_EVENTS["WAKEUP"] must be auto, notify, udp or none, got {mode!r}')
    return mode


def notify_channel() -> str:
    """Return the PostgreSQL channel of commit wake-ups (per prefix: tests share a database)."""
    return f"{get('PREFIX')}erp_outbox"


def wakeup_address(using: str = DEFAULT_DB_ALIAS) -> tuple[str, int]:
    """Return where commit nudges go: one port per database (and prefix) on this host."""
    conf = events_settings()
    if conf["WAKEUP_PORT"]:
        return conf["WAKEUP_HOST"], int(conf["WAKEUP_PORT"])
    db = connections[using].settings_dict
    seed = f"{db.get('HOST')}|{db.get('PORT')}|{db.get('NAME')}|{conf['PREFIX']}"
    return conf["WAKEUP_HOST"], 20000 + zlib.crc32(seed.encode()) % 20000
