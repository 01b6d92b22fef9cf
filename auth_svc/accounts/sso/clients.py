"""The admins' OpenID Connect applications, registered from the environment (idempotent).

``SSO_CLIENTS`` names one client per admin: ``<service>:<client_id>:<secret>`` separated by
commas (``contact:contact-admin:s3cr3t,...``). Each is a confidential authorization-code
client (PKCE), RS256 ID tokens, redirected only to ``<ERP_PUBLIC_URL>/admin/<service>/oidc/callback/``,
and skips the consent screen: these are the platform's own admins, not third parties.
``manage.py register_sso_clients`` (run by the local run and compose after ``migrate``)
makes them so, again on every start; applications it does not name are left alone.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import get_application_model

from .conf import SsoClient


@transaction.atomic
def sso_clients_register(*, clients: list[SsoClient], public_url: str) -> list[tuple[str, str]]:
    """Create or update each client's application; return ``(client_id, "created"|"updated"|"unchanged")``."""
    application_model = get_application_model()
    results = []
    for client in clients:
        wanted = {
            "name": f"{client.service} admin",
            "client_type": application_model.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": application_model.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": client.redirect_uri(public_url),
            "post_logout_redirect_uris": f"{public_url.rstrip('/')}/admin/",
            "algorithm": application_model.RS256_ALGORITHM,
            "skip_authorization": True,
        }
        application = application_model.objects.select_for_update().filter(client_id=client.client_id).first()
        if application is None:
            application_model.objects.create(client_id=client.client_id, client_secret=client.secret, **wanted)
            results.append((client.client_id, "created"))
            continue
        changed = [field for field, value in wanted.items() if getattr(application, field) != value]
        for field in changed:
            setattr(application, field, wanted[field])
        # Stored hashed: compare, and write a new hash only when the secret changed.
        if not check_password(client.secret, application.client_secret):
            application.client_secret = client.secret
            changed.append("client_secret")
        if changed:
            application.save()
        results.append((client.client_id, "updated" if changed else "unchanged"))
    return results
