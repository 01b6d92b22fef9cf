"""Keep a service's local staff user in step with the platform account, on each sign-in and re-check.

There is no second account table: the local user is Django's user model, found by email,
and carries only what the admin needs, derived from the account's claims every time:

- ``is_staff``: the account holds a platform role; ``is_active``: it could sign in at the
  last check with the provider;
- ``admin`` -> ``is_superuser``; ``inventory_manager`` / ``finance_manager`` -> membership of
  exactly one ``django.contrib.auth`` Group named after the role (created if missing), which
  the admins' permissions are granted to (common.admin).

A demoted account loses the old role's group (or superuser) at its next sign-in or
re-check; an account without a role keeps its row (the admin's history points at it) but
no access. auth_svc, whose platform user *is* the local staff user, has its own module
with the same two functions (``SSO["STAFF_USERS"]``, accounts.sso.staff).
"""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.db import transaction

from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER

from .claims import StaffClaims

# The roles a django.contrib.auth Group carries (common.admin.role_of reads them). ``admin``
# is carried by is_superuser alone, so that a group cannot make somebody an admin behind
# that flag's back.
GROUP_ROLES = (INVENTORY_MANAGER, FINANCE_MANAGER)


def staff_flags(role: str | None) -> dict[str, bool]:
    """Return the admin flags that go with a platform role (None: no role, no admin)."""
    return {"is_staff": role is not None, "is_superuser": role == ADMIN}


def _username(email: str, max_length: int) -> str:
    # Django's username holds 150 characters, an email up to 254: a longer one gets a digest.
    if len(email) <= max_length:
        return email
    return hashlib.sha256(email.encode()).hexdigest()[:max_length]


def _locked_user_by_email(email: str):
    user_model = get_user_model()
    users = list(user_model.objects.select_for_update().filter(email__iexact=email).order_by("pk")[:2])
    if len(users) > 1:
        # Two local rows for one account: picking one would be a guess.
        raise SuspiciousOperation("Several local users have this email.")
    return users[0] if users else None


def _role_groups_set(user, role: str | None) -> None:
    wanted = [Group.objects.get_or_create(name=role)[0]] if role in GROUP_ROLES else []
    current = list(user.groups.order_by("pk"))
    if [g.pk for g in current] != [g.pk for g in wanted]:
        user.groups.set(wanted)


@transaction.atomic
def staff_user_sync(*, claims: StaffClaims):
    """Bring the local staff user in step with ``claims``; return it if it may use the admin, else None."""
    user = _locked_user_by_email(claims.email)
    if user is None:
        if claims.role is None:
            return None  # nothing to keep in step, and no access to give
        user_model = get_user_model()
        max_length = user_model._meta.get_field(user_model.USERNAME_FIELD).max_length
        user = user_model(**{user_model.USERNAME_FIELD: _username(claims.email, max_length)})
        user.set_unusable_password()  # signs in through the provider only
    wanted = {"email": claims.email, "is_active": True, **staff_flags(claims.role)}
    changed = [field for field, value in wanted.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, wanted[field])
    if user.pk is None:
        user.save()
    elif changed:
        user.save(update_fields=changed)
    _role_groups_set(user, claims.role)
    return user if claims.role is not None else None


@transaction.atomic
def staff_user_lapse(*, user) -> None:
    """The provider no longer backs ``user``'s session (deactivated, signed out): mark it inactive.

    The next successful sign-in makes it active again; until then no session of it is valid
    (Django refuses inactive users), wherever it was opened.
    """
    get_user_model().objects.filter(pk=user.pk, is_active=True).update(is_active=False)
