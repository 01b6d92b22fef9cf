"""Replay the first response to a POST retried with the same ``Idempotency-Key``.

The key is claimed (a row inserted under a unique constraint) before the view runs,
so two concurrent requests with one key cannot both do the work: the second gets
409 while the first is in flight. The same key with a different body (or path) is
409. Responses of 5xx are not kept, so a failed attempt can be retried; a claim left
by a crashed request expires after ``STALE_AFTER``.
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
MAX_KEY_LENGTH = 255
STALE_AFTER = timedelta(minutes=5)


def _conflict(message: str) -> JsonResponse:
    return JsonResponse(error_body(409, "conflict", message, [{"field": HEADER, "message": message}]), status=409)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key:
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            body = error_body(
                400, "validation", "Invalid Idempotency-Key.", [{"field": HEADER, "message": "At most 255 characters."}]
            )
            return JsonResponse(body, status=400)

        user = authenticate_header_value(request.headers.get("Authorization"))
        caller = str(user) if user else "anonymous"
        digest = hashlib.sha256(
            request.method.encode() + b" " + request.get_full_path().encode() + b"\n" + request.body
        ).hexdigest()

        record, replay = self._claim(caller, key, digest)
        if replay is not None:
            return replay
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            record.delete()
            return response
        record.status_code = response.status_code
        record.response_body = response.content
        record.content_type = response.get("Content-Type", "")
        record.save(update_fields=["status_code", "response_body", "content_type"])
        return response

    def _claim(self, caller: str, key: str, digest: str):
        IdempotencyRecord.objects.filter(
            caller=caller, key=key, status_code__isnull=True, created_at__lt=timezone.now() - STALE_AFTER
        ).delete()
        try:
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
        replay["Idempotent-Replayed"] = "true"
        return None, replay
