"""The ``ERP_EVENTS`` settings dict, with defaults (read on each call, so tests can override)."""

from __future__ import annotations

import os
import zlib
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

DEFAULTS: dict[str, Any] = {
    # Consumer name (one of registry.SUBSCRIPTIONS) and the dotted path of its handler map.
    "CONSUMER": None,
    "HANDLERS": None,
    # Prefix of every exchange and queue name; lets tests and benchmarks use a private topology.
    "PREFIX": "",
    # Delays (seconds) of the successive retries of a failing message; after the last, the DLQ.
    "RETRY_DELAYS": [1.0, 5.0, 30.0],
    # Retries (at the longest delay) of a message whose handler met a database
    # OperationalError/InterfaceError; counted apart from RETRY_DELAYS, then the DLQ.
    "MAX_DB_RETRIES": 20,
    "PREFETCH": 20,
    "RELAY_BATCH_SIZE": 200,
    # The sweep guarantees progress when a wake-up is missed (another host, a lost datagram).
    "RELAY_SWEEP_INTERVAL": 1.0,
    "RELAY_BACKOFF_INITIAL": 0.5,
    "RELAY_BACKOFF_MAX": 15.0,
    "PUBLISH_TIMEOUT": 10.0,
    "HEARTBEAT": 10,
    # Wake-up datagram sent after a commit that wrote events: "udp" or "none".
    "WAKEUP": "udp",
    "WAKEUP_HOST": "127.0.0.1",
    "WAKEUP_PORT": None,  # None: derived from the database, so services on one host differ
    # Readiness fails when the oldest pending outbox row is older than this (stuck relay).
    "OUTBOX_MAX_AGE": 120.0,
}


def events_settings() -> dict[str, Any]:
    merged = dict(DEFAULTS)
    if os.environ.get("ERP_EVENTS_PREFIX"):
        merged["PREFIX"] = os.environ["ERP_EVENTS_PREFIX"]
    if os.environ.get("ERP_EVENTS_RETRY_DELAYS"):
        merged["RETRY_DELAYS"] = [float(part) for part in os.environ["ERP_EVENTS_RETRY_DELAYS"].split(",")]
    merged.update(getattr(settings, "ERP_EVENTS", {}) or {})
    return merged


def get(name: str) -> Any:
    return events_settings()[name]


def wakeup_address(using: str = DEFAULT_DB_ALIAS) -> tuple[str, int]:
    """Return where commit nudges go: one port per database (and prefix) on this host."""
    conf = events_settings()
    if conf["WAKEUP_PORT"]:
        return conf["WAKEUP_HOST"], int(conf["WAKEUP_PORT"])
    db = connections[using].settings_dict
    seed = f"{db.get('HOST')}|{db.get('PORT')}|{db.get('NAME')}|{conf['PREFIX']}"
    return conf["WAKEUP_HOST"], 20000 + zlib.crc32(seed.encode()) % 20000
