"""Register the admins' OpenID Connect applications from ``SSO_CLIENTS`` (idempotent; accounts.sso.clients)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.sso.clients import sso_clients_register


class Command(BaseCommand):
    help = "Create or update the OIDC applications of the back-office admins named in SSO_CLIENTS."

    def handle(self, *args, **options):
        clients = settings.SSO_PROVIDER["CLIENTS"]
        if not clients:
            self.stdout.write("SSO_CLIENTS names no client: nothing to register")
            return
        for client_id, outcome in sso_clients_register(clients=clients, public_url=settings.SSO_PROVIDER["PUBLIC_URL"]):
            self.stdout.write(f"{client_id}: {outcome}")
