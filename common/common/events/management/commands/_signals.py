"""Turn SIGTERM and SIGINT into a clean stop of a long-running command."""

from __future__ import annotations

import signal
from collections.abc import Callable


def stop_on_signals(stop: Callable[[], None]) -> None:
    def handler(signum, frame):
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
