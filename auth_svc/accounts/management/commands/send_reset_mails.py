"""``manage.py send_reset_mails``: the worker that sends the password-reset mails queued by forgot-password.

Runs until SIGTERM or SIGINT (it stops within one poll interval, a second by default),
or handles what is queued and exits with ``--once``. A database error is logged and the
loop goes on after the interval, so a database restart does not stop the mails. Every turn
of the loop touches its heartbeat file, which ``manage.py worker_health mailer`` (the
container's liveness probe) reads, as the relay's and the consumer's.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from common.events.liveness import Heartbeat

from ...services import password_reset_requests_process

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send the password-reset mails that forgot-password queued (until SIGTERM, or --once)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls of an empty queue")
        parser.add_argument("--once", action="store_true", help="handle what is queued, then exit")

    def handle(self, *args, interval: float, once: bool, **options):
        stop = threading.Event()
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            logger.info("send_reset_mails started (poll every %ss)", interval)
        heartbeat = Heartbeat("mailer")
        while not stop.is_set():
            if not once:
                heartbeat.beat()
            try:
                if not once:
                    close_old_connections()  # between polls: drop a connection the database closed
                handled = password_reset_requests_process()
            except DatabaseError as exc:
                # One line per poll while the database is away, not a traceback a second.
                logger.warning(
                    "send_reset_mails: the database failed (%s); retrying in %ss", type(exc).__name__, interval
                )
                handled = 0
            if once:
                return
            if not handled:
                stop.wait(interval)
        heartbeat.clear()
        logger.info("send_reset_mails stopped")
