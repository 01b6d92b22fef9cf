"""Replay the first response to a POST retried with the same ``Idempotency-Key`` (contract §2).

With a key, the claim, the view's work and the stored answer are one database transaction:

1. the claim row is inserted under a unique (caller, key) constraint;
2. the view runs inside the same transaction (the services' own ``transaction.atomic``
   blocks become savepoints of it), and its response is rendered;
3. the answer is written into the claim row, and everything commits together.

So a crash anywhere before the commit leaves neither the work nor the claim, and a retry
does the work once. A concurrent duplicate's INSERT waits on the first one's uncommitted
row (PostgreSQL's unique index; SQLite's write lock): when the first commits, the duplicate
finds its answer and replays it; when the first rolls back, the duplicate does the work.
On PostgreSQL that wait is bounded by ``CLAIM_WAIT`` (``lock_timeout``, for the INSERT
only): a duplicate of a request still running after it gets a 409 "being handled; retry"
instead of holding a connection and a worker for as long as the first one takes.

The same key with a different body (or path) is 409. Keys are scoped per caller (the
token's subject), so two users may pick the same key. Only answers the view really
produced are kept: a 5xx, or a 401/403/429 that refused the request before any work,
rolls the whole transaction back, so the retry runs anew. ``prune_idempotency`` removes
old answers. The transaction stays open while the view runs, calls to other services
included: keyed POSTs hold one database connection for their whole duration.

A view whose answer carries credentials (login, token refresh) opts out with
``idempotency_exempt = True`` (or :func:`idempotency_exempt`): it runs every time, nothing
is stored, and no transaction is added around it.
"""

from __future__ import annotations

import hashlib

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.http import HttpResponse

from ..authentication import authenticate_header_value
from ..exceptions import database_away, database_unavailable, error_response, service_error_response
from . import HEADER, MAX_KEY_LENGTH
from .models import IdempotencyRecord

REPLAYED_HEADER = "Idempotent-Replayed"
# Refusals that happen before the view does anything: a retry must be allowed to run.
NOT_STORED_STATUSES = frozenset({401, 403, 429})
# A claim row can vanish between a failed INSERT and the read (pruned): insert again.
CLAIM_ATTEMPTS = 3
# Seconds a duplicate waits for the first request with its key (PostgreSQL).
CLAIM_WAIT = 10.0
LOCK_NOT_AVAILABLE = "55P03"


def _key_error(status: int, message: str, error_message: str):
    error_type = "validation" if status == 400 else None
    return error_response(status, error_message, error_type=error_type, details=[{"field": HEADER, "message": message}])


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


def _claim(*, caller: str, key: str, digest: str) -> tuple[IdempotencyRecord | None, HttpResponse | None]:
    """Insert the claim (waiting for a concurrent one to finish), or answer for a key already used."""
    for _ in range(CLAIM_ATTEMPTS):
        try:
            # A savepoint: a duplicate leaves the enclosing transaction usable.
            with transaction.atomic(), _lock_wait(CLAIM_WAIT):
                return IdempotencyRecord.objects.create(caller=caller, key=key, request_hash=digest), None
        except OperationalError as exc:
            if getattr(getattr(exc.__cause__, "diag", None), "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            break  # the first request is still running
        except IntegrityError:
            # The first request with this key has committed: its answer is there to read.
            existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
        if existing is None:
            continue
        if existing.request_hash != digest:
            message = "This Idempotency-Key was used with a different request."
            return None, _key_error(409, message, message)
        replay = HttpResponse(
            bytes(existing.response_body), status=existing.status_code, content_type=existing.content_type
        )
        replay[REPLAYED_HEADER] = "true"
        return None, replay
    message = "A request with this Idempotency-Key is being handled; retry."
    return None, _key_error(409, message, message)


class _lock_wait:
    """Bound lock waits to ``seconds`` inside the block (PostgreSQL; elsewhere nothing).

    The previous value is put back at the end so the view's own row locks keep their
    usual wait. Used inside a savepoint: if the block fails, rolling the savepoint
    back undoes the setting too.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.active = connection.vendor == "postgresql"
        self.previous = ""

    def __enter__(self):
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                    [f"{int(self.seconds * 1000)}ms"],
                )
                self.previous = cursor.fetchone()[0]

    def __exit__(self, exc_type, exc, traceback):
        if self.active and exc_type is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [self.previous])
        return False


def _store(record: IdempotencyRecord, response) -> None:
    """Write the answer into the claim row, in the transaction that did the work."""
    record.status_code = response.status_code
    record.response_body = response.content
    record.content_type = response.get("Content-Type", "")
    record.save(update_fields=["status_code", "response_body", "content_type"])


class IdempotencyMiddleware:
    """Make POSTs carrying an ``Idempotency-Key`` safe to retry: claim, work and answer in one transaction."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key or _is_exempt(view_func):
            return None
        if len(key) > MAX_KEY_LENGTH:
            return _key_error(400, f"At most {MAX_KEY_LENGTH} characters.", "Invalid Idempotency-Key.")

        # The view authenticates again; here the caller only scopes the key.
        fingerprint = request_fingerprint(request)
        user = authenticate_header_value(request.headers.get("Authorization"))
        if user is not None and user.is_scoped:
            # Its view refuses it (common.authentication); a replay of its user's earlier answer would not.
            return None
        # Callers without a valid token (register, reset-password) cannot be told
        # apart, so their keys are scoped by the request itself: unrelated clients
        # never collide, and a replay only goes to whoever sent the very same body.
        caller = str(user) if user else f"anonymous:{fingerprint[:32]}"

        # The view is called here, not by Django, so that it runs inside the transaction;
        # a view exception propagates out of it (rolling everything back) to Django's
        # handler, exactly as it would have without a key. The database being away while
        # the claim is made or stored is the 503 a DRF view would answer, not Django's 500.
        try:
            with transaction.atomic():
                record, replay = _claim(caller=caller, key=key, digest=fingerprint)
                if replay is not None:
                    return replay
                response = view_func(request, *view_args, **view_kwargs)
                if callable(getattr(response, "render", None)):
                    response = response.render()  # the stored bytes are the bytes sent
                if not _should_store(response):
                    transaction.set_rollback(True)
                    return response
                _store(record, response)
        except DatabaseError as exc:
            if not database_away(exc):
                raise
            return service_error_response(database_unavailable(request, exc))
        return response
