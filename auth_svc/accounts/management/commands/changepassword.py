"""``manage.py changepassword``: Django's command, saving through :func:`accounts.services.user_password_set`.

Django's own sets the password and saves the row, which leaves the user's sessions open and
their access tokens valid. This one replaces it (``accounts`` comes before
``django.contrib.auth`` in ``INSTALLED_APPS``, so its command of that name wins) and goes
through the service every password change goes through: the sessions end and the access
tokens are withdrawn, as after a reset (contract §3).
"""

from __future__ import annotations

import getpass

from django.contrib.auth.management.commands import changepassword
from django.core.management.base import CommandError

from common.exceptions import ValidationFailed

from ... import services
from ...models import User, normalize_email

MAX_TRIES = 3


class Command(changepassword.Command):
    help = "Change a user's password, ending their sessions and access tokens (as a password reset does)."

    def handle(self, *args, **options):
        email = normalize_email(options["username"] or getpass.getuser())
        user = User.objects.using(options["database"]).filter(email=email).first()
        if user is None:
            raise CommandError(f"user '{email}' does not exist")
        self.stdout.write(f"Changing password for user '{user}'")
        for _ in range(MAX_TRIES):
            password = self._get_pass()
            if password != self._get_pass("Password (again): "):
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                services.user_password_set(user=user, password=password)
            except ValidationFailed as exc:
                self.stderr.write("\n".join(item["message"] for item in exc.details))
                continue
            return f"Password changed successfully for user '{user}'"
        raise CommandError(f"Aborting password change for user '{user}' after {MAX_TRIES} attempts")
