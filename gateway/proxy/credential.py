"""The gateway's proof of itself to auth_svc: its own service token, for ``X-Gateway-Token``.

auth_svc believes the client address the gateway puts in ``X-Forwarded-For`` only when
this token comes with it (common.forwarding). The token is fetched from auth_svc with
the gateway's ``SERVICE_SECRET`` and cached until shortly before it expires
(common.http.ServiceTokenCache). Without a secret, or while auth_svc cannot issue one,
requests go on without it: auth_svc then counts them against the gateway's own address,
which is stricter, never looser. A failed fetch is not retried for ``RETRY_AFTER_SECONDS``,
so an auth_svc that is down does not make every request wait for a token first.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from common.exceptions import ServiceError
from common.http import ServiceTokenCache

RETRY_AFTER_SECONDS = 5.0


class GatewayCredential:
    def __init__(self):
        self._tokens = ServiceTokenCache()
        self._lock = threading.Lock()
        self._failed_at = float("-inf")

    def get(self) -> str | None:
        """Return the gateway's service token, or None (no secret configured, or auth_svc refusing)."""
        if not settings.ERP.get("SERVICE_SECRET"):
            return None
        if time.monotonic() - self._failed_at < RETRY_AFTER_SECONDS:
            return None
        try:
            return self._tokens.get()
        except ServiceError:  # logged by the client (where, not what the secret is)
            with self._lock:
                self._failed_at = time.monotonic()
            return None


credential = GatewayCredential()
