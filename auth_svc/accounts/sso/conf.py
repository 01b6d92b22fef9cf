"""``SSO_CLIENTS`` read into the admins' OIDC clients (no model import: the settings use it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from common.sso.conf import ADMIN_SERVICES


@dataclass(frozen=True)
class SsoClient:
    service: str
    client_id: str
    secret: str

    def redirect_uri(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}/admin/{self.service}/oidc/callback/"


def sso_clients_parse(raw: str | None) -> list[SsoClient]:
    """Parse ``SSO_CLIENTS``; a malformed entry or an unknown service stops the start."""
    clients = []
    for entry in (raw or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        service, _, rest = entry.partition(":")
        client_id, _, secret = rest.partition(":")
        if service not in ADMIN_SERVICES or not client_id or not secret:
            raise ImproperlyConfigured(
                f"SSO_CLIENTS must be '<service>:<client_id>:<secret>' entries, service one of {ADMIN_SERVICES}."
            )
        clients.append(SsoClient(service, client_id, secret))
    return clients
