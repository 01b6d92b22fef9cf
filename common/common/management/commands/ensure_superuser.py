"""Create the back-office superuser of this service's Django admin if missing (idempotent).

Each service has its own database and so its own admin accounts; the local run
calls this with the demo admin's credentials so one login works everywhere.
"""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the admin superuser from DJANGO_SUPERUSER_EMAIL / DJANGO_SUPERUSER_PASSWORD if missing."

    def handle(self, *args, **options):
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not email or not password:
            raise CommandError("Set DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD.")
        user_model = get_user_model()
        lookup = {user_model.USERNAME_FIELD: email}
        defaults = {"is_staff": True, "is_superuser": True}
        if user_model.USERNAME_FIELD != "email" and hasattr(user_model, "email"):
            defaults["email"] = email
        user, created = user_model.objects.get_or_create(**lookup, defaults=defaults)
        if created:
            user.set_password(password)
            user.save()
        # An existing account is left alone: its password may have been changed on purpose.
        self.stdout.write(f"superuser {email}: {'created' if created else 'already there'}")
