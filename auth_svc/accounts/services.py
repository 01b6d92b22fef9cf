"""Writes of the accounts domain: users, logins and tokens, password resets, service tokens.

Views and the Django admin call exactly one of these. Errors are common.exceptions only,
which the envelope handler maps (contract §2): ``ValidationFailed`` -> 400 ``validation``,
``Unauthorized`` -> 401, ``Conflict`` -> 409, ``RateLimited`` -> 429.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import smtplib
from datetime import timedelta
from time import monotonic

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from oauth2_provider import models as oauth_models
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from common.authentication import claim_type_errors
from common.db import unique_conflict
from common.exceptions import Conflict, NotFound, RateLimited, Unauthorized, ValidationFailed
from common.jobs.retention import rows_delete_in_batches
from common.roles import ADMIN
from common.sso.staff import staff_flags

from .models import PasswordResetRequest, PasswordResetToken, User, normalize_email
from .throttling import (
    login_failure_record,
    login_failures_clear,
    login_lockout_seconds,
    reset_request_wait_seconds,
)
from .tokens import ContractRefreshToken, TokenPair, access_token_for_service, token_pair_for_user

logger = logging.getLogger(__name__)

# Lock order. Every transaction that mints, rotates or revokes a user's refresh tokens
# first locks that user's row (SELECT ... FOR UPDATE), and only then touches the user's
# OutstandingToken / BlacklistedToken rows:
#
#   [PasswordResetToken row] -> [active admin rows, in pk order] -> user row -> token rows
#
# (bracketed steps only where they apply: reset confirms lock their reset token first,
# deactivation runs the last-admin guard first). Serialising on the user row is what
# makes revocation complete: a refresh that rotated before a password reset or a
# deactivation commits holds the row, so the revocation waits and then sees (and
# revokes) the newly minted token; a refresh that comes after waits for the row and
# then finds its token revoked or the user inactive. Without it, READ COMMITTED lets
# the revocation miss a token minted by a still-open refresh transaction.


def _user_lock(*, pk, active_only: bool = False) -> User | None:
    """Lock and return the user row (see the lock order above); None if absent (or inactive)."""
    users = User.objects.select_for_update().filter(pk=pk)
    if active_only:
        # On PostgreSQL the filter is re-checked against the row as committed by whoever
        # held the lock, so a user deactivated meanwhile is not returned.
        users = users.filter(is_active=True)
    return users.first()


def _access_withdraw(*, user: User) -> None:
    """Refuse, everywhere, every access token the user was given so far (common.withdrawals).

    Bumps ``access_version`` in the caller's transaction; the UPDATE takes the user's row lock
    (lock order above), so a token is minted either before (the old count: refused) or after
    (the new count) and never in between. Every service and the gateway see it within about
    two polls (``ERP_ACCESS_WITHDRAWALS_POLL_SECONDS``).
    """
    User.objects.filter(pk=user.pk).update(access_version=F("access_version") + 1, access_withdrawn_at=timezone.now())
    user.refresh_from_db(fields=["access_version", "access_withdrawn_at"])


# ---------------------------------------------------------------- users


def _password_validate(*, password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed({field: exc.messages}) from None


EMAIL_TAKEN = "A user with this email already exists."
# How the databases name the violated ``unique=True`` of User.email: PostgreSQL's
# ``<table>_<column>_key``, SQLite's ``<table>.<column>`` (common.db.unique_violation).
EMAIL_UNIQUE = ("accounts_user_email_key", "accounts_user.email")


@transaction.atomic
def user_create(*, email: str, password: str, role: str) -> User:
    """Create an active user; the password must pass the configured validators.

    Every role is a back-office role, so the admin flags follow it (common.sso.staff_flags):
    staff, and superuser for ``admin``.
    """
    email = normalize_email(email)
    user = User(email=email, role=role, **staff_flags(role))
    _password_validate(password=password, user=user, field="password")
    if User.objects.filter(email=email).exists():
        raise Conflict(EMAIL_TAKEN, details=[{"field": "email", "message": EMAIL_TAKEN}])
    user.set_password(password)
    # The check above answers the common case; a concurrent insert of the same email is
    # caught by the database's unique constraint, in a savepoint (unique_conflict).
    with unique_conflict(*EMAIL_UNIQUE, field="email", message=EMAIL_TAKEN):
        user.save(force_insert=True)
    return user


def _last_admin_guard(*, user: User, field: str) -> None:
    """Refuse to leave the system without an active admin (nobody could manage users)."""
    # Lock every active admin in a stable order so two concurrent demotions cannot both pass.
    admins = list(
        User.objects.select_for_update().filter(role=ADMIN, is_active=True).order_by("pk").values_list("pk", flat=True)
    )
    if admins == [user.pk]:
        message = "This is the last active admin."
        raise Conflict(message, details=[{"field": field, "message": message}])


@transaction.atomic
def user_change_role(*, user: User, role: str) -> User:
    """Give the user another role; their access tokens of the old one are withdrawn (:func:`_access_withdraw`)."""
    if user.role == ADMIN and role != ADMIN and user.is_active:
        _last_admin_guard(user=user, field="role")
    # Compared with the row as locked, never the caller's copy: a promotion committed since
    # that copy was read must still be withdrawn when this sets the old role back.
    locked = _user_lock(pk=user.pk)
    if locked is None:
        raise NotFound()
    changed = role != locked.role
    locked.role = role
    # The admin flags follow the role at once: an open auth_svc admin session is the
    # platform user's own, read on every request (a demoted admin is no superuser now).
    flags = staff_flags(role)
    for field, value in flags.items():
        setattr(locked, field, value)
    locked.save(update_fields=["role", *flags, "updated_at"])
    if changed:
        _access_withdraw(user=locked)
    return locked


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Deactivate a user, end their sessions (:func:`user_sessions_end`) and withdraw their access tokens.

    Lock order (see the top of this module): active admins, then this user's row, then
    their tokens; the decision is taken on the row as locked, not on the caller's copy.
    """
    guarded = user.is_active and user.role == ADMIN
    if guarded:
        _last_admin_guard(user=user, field="is_active")
    locked = _user_lock(pk=user.pk)
    if locked is None:
        return user
    if locked.is_active and locked.role == ADMIN and not guarded:
        # Promoted since the caller read it: the guard has not run yet.
        _last_admin_guard(user=locked, field="is_active")
    if locked.is_active:
        locked.is_active = False
        locked.save(update_fields=["is_active", "updated_at"])
    user_sessions_end(user=locked)
    _access_withdraw(user=locked)
    return locked


def user_reactivate(*, user: User) -> User:
    """Let a deactivated user log in again (their revoked refresh tokens stay revoked)."""
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active", "updated_at"])
    return user


ADMIN_EDITABLE_FIELDS = frozenset({"email", "role", "is_active", "is_staff", "is_superuser"})


@transaction.atomic
def user_admin_change(*, user: User, changes: dict) -> User:
    """Apply the Django admin's edit of ``user`` through the rules the API follows.

    A role change passes the last-admin guard (:func:`user_change_role`), a deactivation
    revokes the user's refresh tokens (:func:`user_deactivate`), a new email withdraws the
    access tokens that carry the old one (:func:`_access_withdraw`); the other fields are
    written as given. ``user`` is the row as stored (not the admin form's edited copy).
    """
    unknown = sorted(set(changes) - ADMIN_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({field: ["This field cannot be changed here."] for field in unknown})
    plain = {field: value for field, value in changes.items() if field not in ("role", "is_active")}
    if "email" in plain:
        plain["email"] = normalize_email(plain["email"])
    if plain:
        email_changed = "email" in plain and plain["email"] != user.email
        for field, value in plain.items():
            setattr(user, field, value)
        with unique_conflict(*EMAIL_UNIQUE, field="email", message=EMAIL_TAKEN):
            user.save(update_fields=[*plain, "updated_at"])
        if email_changed:
            _access_withdraw(user=user)
    if "role" in changes and changes["role"] != user.role:
        user = user_change_role(user=user, role=changes["role"])
    if changes.get("is_active") is False:
        user = user_deactivate(user=user)
    elif changes.get("is_active") is True:
        user = user_reactivate(user=user)
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """Set a new password chosen for the user (Django admin, ``manage.py changepassword``), and end their sessions.

    Like a password reset: sessions opened with the old password end, the API's at their
    next refresh, the back office's at their next re-check (:func:`user_sessions_end`), and
    their access tokens within seconds (:func:`_access_withdraw`).
    """
    locked = _user_lock(pk=user.pk)
    if locked is None:
        raise NotFound("This user no longer exists.")
    _password_replace(user=locked, password=password, field="password1")  # the admin form's field
    return locked


def _password_replace(*, user: User, password: str, field: str) -> None:
    """Give the locked user a valid new password, and end what the old one opened: sessions and access.

    The one home of a password change (a reset, an admin's, ``manage.py changepassword``): a
    password refused by the validators is a 400 on ``field`` before anything is written.
    """
    _password_validate(password=password, user=user, field=field)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    user_sessions_end(user=user)
    _access_withdraw(user=user)


# ---------------------------------------------------------------- tokens


def auth_credentials_check(*, email: str, password: str, client_ip: str) -> User:
    """Return the active user these credentials belong to, under the login lockout and throttles.

    The one check behind every password sign-in: the API login (:func:`auth_login`) and the
    back office's sign-in page (accounts.sso.views) count failures in the same counters,
    so six wrong passwords at either lock the pair out at both. Unknown email, wrong
    password and inactive user all raise the same ``Unauthorized`` (Django's backend hashes
    the password even for an unknown email, so timing tells nothing); a locked-out pair or
    address raises ``RateLimited`` before the password is looked at.
    """
    email = normalize_email(email)
    wait = login_lockout_seconds(email=email, ip=client_ip)
    if wait:
        raise RateLimited("Too many failed logins; try again later.", wait=wait)
    user = authenticate(email=email, password=password)
    if user is None:
        login_failure_record(email=email, ip=client_ip)
        raise Unauthorized("Invalid email or password.")
    login_failures_clear(email=email, ip=client_ip)
    return user


def auth_login(*, email: str, password: str, client_ip: str) -> tuple[User, TokenPair]:
    """Check the credentials (:func:`auth_credentials_check`) and return the user with a new token pair."""
    user = auth_credentials_check(email=email, password=password, client_ip=client_ip)
    with transaction.atomic():
        # Mint under the user row lock (lock order above), and only if neither a password
        # reset nor a deactivation committed since ``authenticate`` read the row.
        locked = _user_lock(pk=user.pk, active_only=True)
        if locked is None or locked.password != user.password:
            raise Unauthorized("Invalid email or password.")
        locked.last_login = timezone.now()
        locked.save(update_fields=["last_login"])
        return locked, token_pair_for_user(user=locked)


def _refresh_token_decode(refresh_token: str) -> RefreshToken:
    try:
        return ContractRefreshToken(refresh_token)
    except TokenError:
        raise Unauthorized("Refresh token is invalid, expired or revoked.") from None


@transaction.atomic
def auth_token_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: revoke the presented refresh token and return a new pair.

    The new pair is minted from the user as stored now, so a changed role takes effect
    at the next refresh and a deactivated user gets none.
    """
    token = _refresh_token_decode(refresh_token)
    # Lock the user row first (lock order above): a password reset or deactivation in
    # flight either finishes before this sees the token (revoked: 401) or waits for this
    # rotation to commit and then revokes the new token too.
    user = _user_lock(pk=token.get(api_settings.USER_ID_CLAIM), active_only=True)
    if user is None:
        raise Unauthorized("Refresh token is invalid, expired or revoked.")
    # Then the outstanding row: of two concurrent refreshes with one token, one wins.
    outstanding = (
        OutstandingToken.objects.select_for_update()
        .filter(jti=token[api_settings.JTI_CLAIM], user=user)
        .order_by("pk")
        .first()
    )
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise Unauthorized("Refresh token is invalid, expired or revoked.")
    BlacklistedToken.objects.create(token=outstanding)
    return token_pair_for_user(user=user)


@transaction.atomic
def auth_logout(*, refresh_token: str, user_id: str) -> None:
    """Revoke the caller's refresh token; revoking an already revoked one is a no-op."""
    invalid = ValidationFailed.field("refresh_token", "Invalid refresh token.")
    try:
        # Signature, expiry, issuer and audience are checked; the blacklist is not, so
        # logging out twice succeeds.
        payload = token_backend.decode(refresh_token, verify=True)
    except TokenBackendError:
        raise invalid from None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type or claim_type_errors(payload):
        raise invalid
    if str(payload.get(api_settings.USER_ID_CLAIM)) != str(user_id):
        raise invalid
    outstanding = OutstandingToken.objects.filter(jti=payload.get(api_settings.JTI_CLAIM)).first()
    if outstanding is None:
        raise invalid
    BlacklistedToken.objects.get_or_create(token=outstanding)


def user_refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token of the user still outstanding; return how many.

    Complete only if the caller holds the user's row lock (see the lock order above);
    otherwise a token minted by a refresh still in flight is missed.
    """
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in pending], ignore_conflicts=True
    )
    return len(created)


def user_sessions_end(*, user: User) -> None:
    """End every session of the user: the API's (refresh tokens) and the back office's (the provider's tokens).

    What a deactivation and a new password do, so that whoever signed in with the old
    password, through the API or at the back office's sign-in page, is out. Complete only
    under the user's row lock (see :func:`user_refresh_tokens_revoke`).
    """
    user_refresh_tokens_revoke(user=user)
    sso_tokens_revoke(user=user)


def sso_tokens_revoke(*, user: User) -> int:
    """Revoke what the OpenID Connect provider issued to the user (access and refresh tokens, open grants).

    The admins re-check their sessions with these access tokens (common.sso.middleware), so
    every back-office session of the user ends at its next re-check.
    """
    deleted = 0
    for model in (
        oauth_models.get_access_token_model(),
        oauth_models.get_refresh_token_model(),
        oauth_models.get_grant_model(),
    ):
        deleted += model.objects.filter(user=user).delete()[0]
    return deleted


def service_token_issue(*, service_name: str, service_secret: str) -> str:
    """Return an access token for a service that proved its secret (``SERVICE_SECRETS``)."""
    expected = settings.ACCOUNTS["SERVICE_SECRETS"].get(service_name)
    # Compare even for an unknown name, in constant time, so timing reveals neither
    # which services exist nor how much of a secret was right.
    matches = hmac.compare_digest((expected or secrets.token_hex(32)).encode(), service_secret.encode())
    if expected is None or not matches:
        raise Unauthorized("Unknown service or wrong secret.")
    return access_token_for_service(service_name=service_name)


# ---------------------------------------------------------------- password reset


def _reset_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def _password_reset_token_create(*, user: User) -> str:
    # Issuing a new token voids the older unused ones: only the latest mail works.
    PasswordResetToken.objects.filter(user=user, used_at__isnull=True).delete()
    raw = secrets.token_urlsafe(32)
    PasswordResetToken.objects.create(
        user=user,
        token_hash=_reset_token_hash(raw),
        expires_at=timezone.now() + timedelta(minutes=settings.ACCOUNTS["RESET_TOKEN_MINUTES"]),
    )
    return raw


def password_reset_request(*, email: str, client_ip: str) -> None:
    """Queue a reset mail for ``email``, registered or not; 429 over the throttle.

    The request path does the same work for every email (the throttle, then one insert)
    so neither its answer nor its timing tells whether an account exists: the look-up,
    the token and the mail happen later, in the mail job (accounts.tasks) once the row
    is committed, or in the sweep (:func:`password_reset_requests_process`) if that job was lost.
    """
    email = normalize_email(email)
    wait = reset_request_wait_seconds(email=email, ip=client_ip)
    if wait:
        raise RateLimited("Too many password reset requests; try again later.", wait=wait)
    with transaction.atomic():
        request = PasswordResetRequest.objects.create(email=email)
        transaction.on_commit(lambda: _password_reset_mail_job_send(request_id=request.pk))


def _password_reset_mail_job_send(*, request_id: int) -> None:
    """Hand the request to the mail job; a broker that is away loses nothing: the sweep sends it."""
    from .tasks import password_reset_mail_send

    try:
        # One connection attempt, no publish retries: the request answers now whatever the
        # broker does. (``retry=False`` alone still let kombu reconnect until its connect
        # timeout ran out: 6 s per answer with the broker refusing, bench/forgot_password_timing.py.)
        with password_reset_mail_send.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)
            password_reset_mail_send.apply_async(kwargs={"request_id": request_id}, retry=False, producer=producer)
    except Exception as exc:  # kombu's OperationalError, an OSError: whatever the broker raised
        logger.warning("The reset mail job of request %s was not queued (%s); the sweep sends it", request_id, exc)


def _password_reset_mail(*, email: str) -> None:
    """Mail a reset token to the active user with that email; do nothing for anybody else."""
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        return
    raw = _password_reset_token_create(user=user)
    minutes = settings.ACCOUNTS["RESET_TOKEN_MINUTES"]
    body = (
        "Someone asked to reset the password of your ERP account.\n\n"
        f"Your reset token (valid for {minutes} minutes, usable once):\n\n{raw}\n\n"
        'Send it with your new password: POST /api/auth/reset-password {"reset_token", "new_password"}.\n'
        "If you did not ask for this, ignore this message: your password stays as it is.\n"
    )
    try:
        send_mail("Reset your ERP password", body, None, [user.email])
    except smtplib.SMTPRecipientsRefused:
        # This address will never take it: dropped, or it would block the queue for good.
        logger.warning("The mail server refused the reset mail to user %s; request dropped", user.pk)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailServerUnavailable(type(exc).__name__) from exc


class MailServerUnavailable(Exception):
    """The mail could not be handed to the mail server (down, refusing, timing out): try again later."""


def password_reset_request_mail(*, request_id: int) -> bool:
    """Send the mail of one queued reset request and delete the row; False if it is gone or taken.

    The row is the source of truth: it is locked (a sweep or another worker holding it is
    skipped), mailed and deleted in one transaction, so a job retried after the sweep
    sent its mail finds nothing and sends nothing. While the mail server is away this
    raises :class:`MailServerUnavailable` and the row stays (no token made).
    """
    with transaction.atomic():
        request = PasswordResetRequest.objects.select_for_update(skip_locked=True).filter(pk=request_id).first()
        if request is None:
            return False
        _password_reset_mail(email=request.email)
        request.delete()
    return True


def password_reset_requests_process(
    *, limit: int = 50, older_than: timedelta | None = None, deadline: float | None = None
) -> int:
    """Send the mails of up to ``limit`` queued reset requests, oldest first; return how many were handled.

    ``deadline`` (a ``time.monotonic()`` value): start no mail after it, however many wait.

    The sweep: the mail job (accounts.tasks) sends each request once it is committed; this
    sends those whose job was lost (a broker away at the request, a worker gone), taking
    only rows older than ``older_than`` so that a job just sent gets its turn first. It does
    meet jobs still retrying (their backoff runs for an hour), which is safe: each request
    is locked (skipping those another worker holds), handled and deleted in one
    transaction: a worker that dies mid-way leaves it queued, and the retry's token voids
    the first one, so at worst the user gets a second mail whose token works. While the
    mail server is away the transaction is rolled back (no token made) and the round
    ends: the request stays queued for the next round instead of being lost.
    """
    queued = PasswordResetRequest.objects.select_for_update(skip_locked=True).order_by("pk")
    if older_than is not None:
        queued = queued.filter(created_at__lt=timezone.now() - older_than)
    handled = 0
    for _ in range(limit):
        if deadline is not None and monotonic() >= deadline:
            break
        try:
            with transaction.atomic():
                request = queued.first()
                if request is None:
                    break
                _password_reset_mail(email=request.email)
                request.delete()
        except MailServerUnavailable as exc:
            logger.warning("The mail server is unavailable (%s); reset mails stay queued", exc)
            break
        handled += 1
    return handled


@transaction.atomic
def password_reset_confirm(*, reset_token: str, new_password: str) -> User:
    """Set a new password with a valid reset token, use the token up, end the user's sessions and access."""
    now = timezone.now()
    invalid = ValidationFailed.field("reset_token", "Invalid or expired reset token.")
    token = (
        PasswordResetToken.objects.select_for_update(of=("self",))
        .filter(token_hash=_reset_token_hash(reset_token))
        .first()
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise invalid
    # Lock order (top of this module): the reset token, then the user row, then tokens.
    user = _user_lock(pk=token.user_id, active_only=True)
    if user is None:
        raise invalid
    # Validated before anything is written: a rejected password leaves the token usable.
    _password_replace(user=user, password=new_password, field="new_password")
    token.used_at = now
    token.save(update_fields=["used_at"])
    return user


# ---------------------------------------------------------------- retention (nightly jobs)


def refresh_tokens_prune() -> int:
    """Delete the refresh tokens past their expiry, revoked or not (their blacklist rows go with them).

    A revoked token that has not expired yet stays: its blacklist row is what refuses it
    (and lets a second logout with it succeed); once expired its signature check refuses it.
    """
    return rows_delete_in_batches(OutstandingToken.objects.filter(expires_at__lt=timezone.now()))


def reset_tokens_prune() -> int:
    """Delete the password-reset tokens that can no longer be used: expired or used."""
    unusable = PasswordResetToken.objects.filter(Q(expires_at__lt=timezone.now()) | Q(used_at__isnull=False))
    return rows_delete_in_batches(unusable)


def oauth_tokens_prune() -> int:
    """Delete the back office's expired OAuth access, refresh and ID tokens and grants; return how many.

    django-oauth-toolkit's own ``clear_expired`` decides (revoked refresh tokens stay while
    their reuse can still be detected); it counts nothing, so the rows are counted around it.
    """
    models = (
        oauth_models.get_access_token_model(),
        oauth_models.get_refresh_token_model(),
        oauth_models.get_id_token_model(),
        oauth_models.get_grant_model(),
    )
    before = sum(model.objects.count() for model in models)
    oauth_models.clear_expired()
    return before - sum(model.objects.count() for model in models)
