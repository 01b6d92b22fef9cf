"""Replay the first response to a POST retried with the same ``Idempotency-Key``.

The key is claimed (a row inserted under a unique constraint) before the view runs,
so two concurrent requests with one key cannot both do the work: the second gets
409 while the first is in flight. The same key with a different body (or path) is
409. Keys are scoped per caller (the token's subject), so two users may pick the
same key. Only answers the view really produced are kept: a 5xx, or a 401/403/429
that refused the request before any work, is not stored, so the retry runs anew. A
claim left by a crashed process expires after ``STALE_AFTER``.

Known limit: the answer is saved after the view's own transaction commits, not in
it. A process that dies between the two leaves a claim that expires, and a retry
after ``STALE_AFTER`` does the work again. ``prune_idempotency`` removes old answers.

The claim is made in ``process_view`` so a view can opt out: one whose answer
carries credentials (login, token refresh) sets ``idempotency_exempt = True`` (or
is wrapped in :func:`idempotency_exempt`), and its responses are never stored.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from ..authentication import authenticate_header_value
from ..exceptions import error_body
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
STALE_AFTER = timedelta(minutes=5)
# Refusals that happen before the view does anything: a retry must be allowed to run.
NOT_STORED_STATUSES = frozenset({401, 403, 429})


def _conflict(message: str) -> JsonResponse:
    return JsonResponse(error_body(409, "conflict", message, [{"field": HEADER, "message": message}]), status=409)


def _invalid_key(message: str) -> JsonResponse:
    body = error_body(400, "validation", "Invalid Idempotency-Key.", [{"field": HEADER, "message": message}])
    return JsonResponse(body, status=400)


def request_fingerprint(request) -> str:
    """Return a hash of what makes two requests "the same": method, path with query, body."""
    return hashlib.sha256(
        request.method.encode() + b" " + request.get_full_path().encode() + b"\n" + request.body
    ).hexdigest()


def _should_store(response) -> bool:
    if getattr(response, "streaming", False):
        return False
    return response.status_code < 500 and response.status_code not in NOT_STORED_STATUSES


def idempotency_exempt(view):
    """Mark a view (function or class) whose POST answers must never be stored."""
    view.idempotency_exempt = True
    return view


def _is_exempt(view_func) -> bool:
    # DRF's and Django's as_view() keep the class on the function they return.
    view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
    return getattr(view_func, "idempotency_exempt", False) or getattr(view_class, "idempotency_exempt", False)


class IdempotencyMiddleware:
    """Make POSTs carrying an ``Idempotency-Key`` safe to retry (CONTRACT §2)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def process_view(self, request, view_func, view_args, view_kwargs):
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key or _is_exempt(view_func):
            return None
        if len(key) > MAX_KEY_LENGTH:
            return _invalid_key(f"At most {MAX_KEY_LENGTH} characters.")

        # The view authenticates again; here the caller only scopes the key.
        fingerprint = request_fingerprint(request)
        user = authenticate_header_value(request.headers.get("Authorization"))
        # Callers without a valid token (register, reset-password) cannot be told
        # apart, so their keys are scoped by the request itself: unrelated clients
        # never collide, and a replay only goes to whoever sent the very same body.
        caller = str(user) if user else f"anonymous:{fingerprint[:32]}"

        record, replay = self._claim(caller, key, fingerprint)
        if replay is not None:
            return replay
        request.idempotency_record = record
        return None

    def __call__(self, request):
        response = self.get_response(request)
        record = getattr(request, "idempotency_record", None)
        if record is None:
            return response
        if not _should_store(response):
            record.delete()
            return response
        # update(), not save(): if the claim was swept as stale meanwhile, this is a
        # harmless no-op rather than an error after the work was done.
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            response_body=response.content,
            content_type=response.get("Content-Type", ""),
        )
        return response

    def _claim(self, caller: str, key: str, digest: str):
        """Insert the claim, or return the answer for a key already used: replay or 409."""
        IdempotencyRecord.objects.filter(
            caller=caller, key=key, status_code__isnull=True, created_at__lt=timezone.now() - STALE_AFTER
        ).delete()
        try:
            # A savepoint, so a duplicate does not break an enclosing transaction.
            with transaction.atomic():
                return IdempotencyRecord.objects.create(caller=caller, key=key, request_hash=digest), None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
        if existing is None:  # removed between our insert and read: let the client retry
            return None, _conflict("A request with this Idempotency-Key is in progress; retry.")
        if existing.request_hash != digest:
            return None, _conflict("This Idempotency-Key was used with a different request.")
        if existing.status_code is None:
            return None, _conflict("A request with this Idempotency-Key is in progress; retry.")
        replay = HttpResponse(
            bytes(existing.response_body), status=existing.status_code, content_type=existing.content_type
        )
        replay[REPLAYED_HEADER] = "true"
        return None, replay
