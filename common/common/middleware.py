"""``X-Request-ID`` middleware: take the caller's id or make one, expose it, return it."""

from __future__ import annotations

from .request_id import HEADER, accept_or_new, reset_request_id, set_request_id


class RequestIDMiddleware:
    """Set ``request.request_id`` and the context variable for the request, and echo the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_new(request.headers.get(HEADER))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[HEADER] = request_id
        return response
