"""Create the demo users of the local run if they are missing (idempotent; README lists them).

An existing user with a demo email is never touched: an operator who deactivated, demoted
or re-passworded it keeps it that way (re-running the seed must not quietly restore a
known password's admin rights).

The users live in ``accounts/demo_users.json``, their one home: the local run
(scripts/run.py: banner, superusers of the other services), the platform tests and
the benchmarks read that file without importing Django or this app.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import user_create
from common.roles import ROLES

DEMO_USERS_FILE = Path(__file__).resolve().parents[2] / "demo_users.json"


def demo_users() -> tuple[tuple[str, str, str], ...]:
    """Return the demo users as (email, password, role); each signs in to the back office too (docs/back-office.md)."""
    users = tuple((user["email"], user["password"], user["role"]) for user in json.loads(DEMO_USERS_FILE.read_text()))
    unknown = sorted({role for _, _, role in users} - set(ROLES))
    if unknown:
        raise ValueError(f"{DEMO_USERS_FILE}: unknown role(s) {', '.join(unknown)}")
    return users


DEMO_USERS = demo_users()


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
