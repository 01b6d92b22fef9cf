"""Create the demo users of the local run (idempotent; README lists them)."""

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import user_create
from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER

# (email, password, role); the admin is also a Django admin superuser.
DEMO_USERS = (
    ("admin@example.com", "AdminPass!2026", ADMIN),
    ("inventory@example.com", "InventoryPass!2026", INVENTORY_MANAGER),
    ("finance@example.com", "FinancePass!2026", FINANCE_MANAGER),
)


class Command(BaseCommand):
    help = "Create the demo users if they are missing; existing ones keep their password."

    def handle(self, *args, **options):
        for email, password, role in DEMO_USERS:
            is_admin = role == ADMIN
            if User.objects.filter(email=email).exists():
                # Never reset a password someone changed; only restore what makes the demo work.
                User.objects.filter(email=email).update(
                    role=role, is_active=True, is_staff=is_admin, is_superuser=is_admin
                )
                self.stdout.write(f"{email} ({role}): already there")
                continue
            user_create(email=email, password=password, role=role, is_staff=is_admin, is_superuser=is_admin)
            self.stdout.write(f"{email} ({role}): created")
