"""Keep responses that carry credentials out of the idempotency store.

common's ``IdempotencyMiddleware`` saves the body of every POST made with an
``Idempotency-Key`` to replay it later. For login, refresh and service-token that body
is a set of live tokens: storing it would put bearer credentials in the database in
clear. Those calls are safe to retry without the key (a retry just issues another
token), so for them the key is dropped before common's middleware sees it.
"""

from __future__ import annotations

CREDENTIAL_PATHS = frozenset({"/login", "/refresh", "/service-token"})


class DropIdempotencyKeyForCredentialsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in CREDENTIAL_PATHS:
            request.META.pop("HTTP_IDEMPOTENCY_KEY", None)
            # ``request.headers`` is a cached view of META, possibly built by an earlier middleware.
            request.__dict__.pop("headers", None)
        return self.get_response(request)
