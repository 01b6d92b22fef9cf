"""auth_svc's jobs (Celery): the reset mail, its sweep and the retention of tokens. Each calls one service.

The mail job is sent when forgot-password's row commits (services.password_reset_request).
While the mail server is away it retries with exponential backoff (5 s doubling, at most
10 min apart, jittered) for ``RESET_MAIL_RETRIES`` tries; the row stays queued throughout,
and the sweep (every 5 minutes) sends whatever a lost or exhausted job left.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from time import monotonic

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from common.jobs.retention import deleted_logged

from . import services

logger = logging.getLogger(__name__)

RESET_MAIL_RETRIES = 12
RESET_MAIL_BACKOFF_MAX_SECONDS = 600
# How long one sweep may hold the worker: it runs one job at a time, so a sweep of hundreds of
# mails to a slow mail server (EMAIL_TIMEOUT 10 s a step) would starve the watchdogs queued
# behind it.
RESET_MAIL_SWEEP_SECONDS = 30


@shared_task(name="accounts.password_reset_mail_send", bind=True, max_retries=RESET_MAIL_RETRIES)
def password_reset_mail_send(self, request_id: int) -> bool:
    try:
        return services.password_reset_request_mail(request_id=request_id)
    except services.MailServerUnavailable as exc:
        if self.request.retries >= self.max_retries:
            logger.warning(
                "The mail server is still unavailable (%s); reset request %s left to the sweep", exc, request_id
            )
            return False
        countdown = get_exponential_backoff_interval(
            factor=settings.ACCOUNTS["RESET_MAIL_RETRY_SECONDS"],
            retries=self.request.retries,
            maximum=RESET_MAIL_BACKOFF_MAX_SECONDS,
            full_jitter=True,
        )
        logger.warning(
            "The mail server is unavailable (%s); reset request %s retried in %ss", exc, request_id, countdown
        )
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="accounts.password_reset_requests_sweep")
def password_reset_requests_sweep() -> int:
    age = timedelta(seconds=settings.ACCOUNTS["RESET_MAIL_SWEEP_AGE_SECONDS"])
    deadline = monotonic() + RESET_MAIL_SWEEP_SECONDS
    handled = services.password_reset_requests_process(limit=500, older_than=age, deadline=deadline)
    if handled and monotonic() >= deadline:
        # Out of time with mails maybe left: go on after the jobs queued meanwhile, not in 5 min
        # (a round that sent nothing met a mail server away: the next beat's round tries again).
        password_reset_requests_sweep.apply_async()
    if handled:
        logger.warning("reset mail sweep: sent %d request(s) whose job was lost", handled)
    return handled


@shared_task(name="accounts.refresh_tokens_prune")
def refresh_tokens_prune() -> int:
    return deleted_logged(services.refresh_tokens_prune(), what="expired refresh tokens")


@shared_task(name="accounts.reset_tokens_prune")
def reset_tokens_prune() -> int:
    return deleted_logged(services.reset_tokens_prune(), what="expired or used reset tokens")


@shared_task(name="accounts.oauth_tokens_prune")
def oauth_tokens_prune() -> int:
    return deleted_logged(services.oauth_tokens_prune(), what="expired OAuth tokens and grants")
