"""The user (email login, one role), the password-reset tokens issued to users, and the reset queue."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from common.roles import ADMIN, INVENTORY_MANAGER, ROLES

SESSION_AUTH_HASH_SALT = "accounts.User.get_session_auth_hash"
ROLE_CHOICES = [(role, role.replace("_", " ").capitalize()) for role in ROLES]


def normalize_email(email: str) -> str:
    """Return the canonical form of an email: trimmed and lower-cased as a whole."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Logins (API and Django admin) match emails whatever their case.
        return self.get(email=normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("role", ADMIN)
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email and acts with one role of the contract's matrix.

    ``is_staff``/``is_superuser`` only concern the Django admin and follow ``role`` (every role is
    staff, ``admin`` is superuser: common.sso.staff_flags); API rights come from ``role``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    # The least powerful role by default, so a user made elsewhere (a single sign-on
    # account new to the platform, a manager's create_user) never gains rights by accident.
    role = models.CharField(max_length=32, choices=ROLE_CHOICES, default=INVENTORY_MANAGER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # Withdrawn access (common.withdrawals, contract §3): bumped by a deactivation, a role change,
    # a new password or a new email, and stamped into every token minted after; older tokens are refused.
    access_version = models.PositiveIntegerField(default=0, db_default=0)
    # Indexed (built concurrently, migration 0006): every poll reads the rows stamped after its cursor.
    access_withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["access_withdrawn_at"], name="accounts_user_withdrawn_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=ROLES), name="accounts_user_role_valid"),
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="accounts_user_email_lower"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    # A Django session keeps the hash of its user's at sign-in, and a session whose user's hash has
    # changed since is ended at its next request. Django hashes the password alone; with the access
    # version too, whatever withdraws the user's access (a deactivation, even if reactivated later, a
    # new role or email: services._access_withdraw) ends their sessions at auth_svc as well: the single
    # sign-on session, and with it what the gateway's home exchanges it for (POST /sso/session/token).
    def get_session_auth_hash(self) -> str:
        return self._session_auth_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_auth_hash(secret=secret)

    def _session_auth_hash(self, *, secret: str | None) -> str:
        value = f"{self.password}:{self.access_version}"
        return salted_hmac(SESSION_AUTH_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()


class PasswordResetToken(models.Model):
    """A single-use reset token; only its SHA-256 is kept, so a database leak reveals none."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_reset_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"reset token of {self.user_id}"


class PasswordResetRequest(models.Model):
    """A forgot-password request waiting for its mail: the source of truth of the reset mails.

    The request path writes one of these for every email, registered or not, and
    nothing else, so its answer takes the same time either way; the mail job (or the
    sweep, if the job was lost) looks the email up, makes the token and sends the mail,
    then deletes the row (accounts.tasks).
    """

    email = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"reset request {self.pk}"


class RedeemedCode(models.Model):
    """An OIDC authorization code once it bought tokens, so that a replay can revoke them (RFC 6749 §4.1.2).

    django-oauth-toolkit deletes the grant on redemption, and with it any trace of which
    tokens the code issued. Only the code's SHA-256 is kept, never the code.
    """

    code_checksum = models.CharField(max_length=64, unique=True)
    application_id = models.BigIntegerField()
    token_family = models.UUIDField(null=True)  # the refresh tokens' family: every rotation of it
    access_token_id = models.BigIntegerField(null=True)
    redeemed_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"code {self.code_checksum[:8]}… redeemed {self.redeemed_at:%Y-%m-%d %H:%M}"
