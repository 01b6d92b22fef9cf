"""One JSON access-log line per request, from every service and the gateway.

A Django middleware rather than a gunicorn logger class: only inside Django are the
authenticated user and the request id known, and it logs the same under gunicorn, any
other server and the test client. The line goes through the JSON logging every service
configures (``common.settings.logging_config``).

Only what identifies the request is logged: the method, the path without its query
string (a token or an email in ``?...`` never reaches the log), the status, the time
Django took and the caller's user id. No header, no body, no cookie.
"""

from __future__ import annotations

import logging
import time

from django.utils.functional import empty

logger = logging.getLogger("erp.access")


def user_id_of(request) -> str | None:
    """Return the id of the user the request was authenticated as, or None.

    DRF puts its user on the Django request once it has authenticated; the gateway, which
    verifies tokens without DRF, sets ``token_user_id``. Django's lazy session user is not
    evaluated here: that would cost a query on requests that never needed it.
    """
    user = request.__dict__.get("user")
    if user is not None and getattr(user, "_wrapped", None) is not empty and getattr(user, "is_authenticated", False):
        return str(user.id)
    return getattr(request, "token_user_id", None)


class AccessLogMiddleware:
    """Log ``request`` with method, path, status, duration_ms, request_id and user_id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        # A poll every process makes every second (common.withdrawals) would drown the log: its
        # successes are at DEBUG, its failures at INFO like any other request.
        quiet = getattr(request, "access_log_quiet", False) and response.status_code < 400
        logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "request_id": getattr(request, "request_id", None),
                "user_id": user_id_of(request),
            },
        )
        return response
