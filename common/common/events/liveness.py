"""A liveness signal for the worker processes (relay, consumer) that a supervisor can probe.

A worker touches its heartbeat file on every turn of its loop (at least once per
sweep interval, or per consumer drain timeout), at most once a second.
``manage.py worker_health relay|consumer`` exits 1 once the file is older than
``WORKER_MAX_AGE`` seconds or absent: a Kubernetes ``livenessProbe`` (``exec``) or a
compose ``healthcheck`` runs it, and a wedged worker is restarted. A file, not an
HTTP port: a worker then needs no server thread, and the probe runs in the worker's
own container, so the check reads exactly that process's file.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from django.conf import settings

from . import conf

TOUCH_EVERY = 1.0


def heartbeat_path(role: str) -> Path:
    """Return the heartbeat file of this service's ``role`` ("relay" or "consumer")."""
    configured = conf.get("WORKER_HEARTBEAT_FILE")
    if configured:
        return Path(str(configured).format(role=role))
    from ..settings.env import data_dir

    return data_dir() / "workers" / f"{settings.SERVICE_NAME}-{role}.alive"


class Heartbeat:
    def __init__(self, role: str):
        self.role = role
        self._last = 0.0

    def beat(self) -> None:
        """Touch the file (best effort: a full disk must not stop the worker)."""
        now = time.monotonic()
        if now - self._last < TOUCH_EVERY:
            return
        self._last = now
        path = heartbeat_path(self.role)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()

    def clear(self) -> None:
        """Remove the file on a clean stop: a stopped worker is not alive."""
        with contextlib.suppress(OSError):
            heartbeat_path(self.role).unlink()


def age(role: str) -> float | None:
    """Seconds since the worker last touched its file, or None if there is none."""
    try:
        return max(0.0, time.time() - os.stat(heartbeat_path(role)).st_mtime)
    except FileNotFoundError:
        return None
