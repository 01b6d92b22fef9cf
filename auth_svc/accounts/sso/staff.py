"""In auth_svc the platform user is the local staff user: keep its admin flags in step with the claims.

The same two functions as :mod:`common.sso.staff` (``SSO["STAFF_USERS"]``). With auth_svc as
the provider the claims come from this very row, so nothing changes but the flags; with
another provider its claims are the authority for the role (the business manages roles
there), and an account it knows that the platform does not is created without a password.
The platform's own ``is_active`` always wins: a user deactivated here stays out.
"""

from __future__ import annotations

from django.db import transaction

from common.sso.claims import StaffClaims
from common.sso.staff import staff_flags

from ..models import User, normalize_email


@transaction.atomic
def staff_user_sync(*, claims: StaffClaims) -> User | None:
    email = normalize_email(claims.email)
    user = User.objects.select_for_update().filter(email=email).first()
    if user is None:
        if claims.role is None:
            return None
        user = User.objects.create_user(email, password=None, role=claims.role)
    wanted = staff_flags(claims.role)
    if claims.role is not None:
        wanted["role"] = claims.role
    changed = [field for field, value in wanted.items() if getattr(user, field) != value]
    if changed:
        for field in changed:
            setattr(user, field, wanted[field])
        user.save(update_fields=[*changed, "updated_at"])
    return user if claims.role is not None and user.is_active else None


def staff_user_lapse(*, user) -> None:
    """Nothing to mark: the platform's own ``is_active`` is the truth here, read on every request."""
