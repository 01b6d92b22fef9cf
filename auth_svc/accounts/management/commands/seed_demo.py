"""Create the demo users of the local run if they are missing (idempotent; README lists them).

An existing user with a demo email is never touched: an operator who deactivated, demoted
or re-passworded it keeps it that way (re-running the seed must not quietly restore a
known password's admin rights).
"""

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import user_create
from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER

# (email, password, role); each signs in to the back office too (README "Back office").
DEMO_USERS = (
    ("admin@example.com", "AdminPass!2026", ADMIN),
    ("inventory@example.com", "InventoryPass!2026", INVENTORY_MANAGER),
    ("finance@example.com", "FinancePass!2026", FINANCE_MANAGER),
)


class Command(BaseCommand):
    help = "Create the demo users that are missing; existing users are left exactly as they are."

    def handle(self, *args, **options):
        for email, password, role in DEMO_USERS:
            existing = User.objects.filter(email=email).first()
            if existing is not None:
                state = "active" if existing.is_active else "inactive"
                self.stdout.write(f"{email}: already there ({existing.role}, {state}), left unchanged")
                continue
            user_create(email=email, password=password, role=role)
            self.stdout.write(f"{email} ({role}): created")
