"""Test helpers for the Django admins: staff users of a role, and the admins walked against the matrix.

Every service's suite calls these on its own ``admin.site``:

- :func:`admin_matrix_problems`: every registered admin, inline and action declares the
  matrix permission that governs it (completeness), and for each role (and nobody) grants
  exactly what the matrix says for that permission, no more and no less;
- :func:`admin_grants`: what a role may do in each admin, for a test that pins it against
  contract §3 by hand;
- :func:`editable_field_problems`: no admin form (nor ``list_editable``) lets anyone type a
  status, a quantity, a stock level or a total.

:func:`staff_user` makes a staff member as the sign-in would: on a user model with a
``role`` field (auth_svc) that role; elsewhere ``admin`` is a superuser and the other
roles are the one Group named after the role.
"""

from __future__ import annotations

import re
import uuid

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.test import RequestFactory

from common.admin import OPERATIONS, RoleAdminMixin, action_matrix_permission, admin_declaration_problems, admin_entries
from common.roles import ADMIN, ROLES, role_has_permission

# What only an admin may open in every service with events: the local staff users and
# groups (kept by the sign-in), the outbox and the inbox; for looking, never editing.
ADMIN_ONLY_PAGES = {
    "auth.group": {"view"},
    "auth.user": {"view"},
    "events.inboxevent": {"view"},
    "events.outboxevent": {"view"},
}

# What only an admin may do in every service with jobs (common.jobs.admin, ``jobs.manage``): edit,
# enable, disable and run the schedules; read the integrity checks' last results.
_SCHEDULE = {"view", "add", "change", "delete", "delete_selected"}
_SCHEDULES = ("clockedschedule", "crontabschedule", "intervalschedule", "solarschedule")
JOBS_ADMIN_PAGES = {
    "django_celery_beat.periodictask": _SCHEDULE | {"enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"},
    **{f"django_celery_beat.{name}": _SCHEDULE for name in _SCHEDULES},
    **{
        f"django_celery_beat.{name} > django_celery_beat.periodictask": {"view", "change", "delete"}
        for name in _SCHEDULES
    },
    "jobs.integritycheck": {"view"},
}
ADMIN_ONLY_PAGES |= JOBS_ADMIN_PAGES

# Field names no admin form may offer: state and amounts move through services only.
FORBIDDEN_FIELD = re.compile(r"(^|_)(status|quantity|stock|total|subtotal|amount|revision|change)(_|$)")
# ... but a vendor's terms: how many units it sells at least, a price-list figure that moves nothing.
TERMS_FIELDS = frozenset({"min_order_quantity"})


def staff_user(role: str, **fields):
    """Create an active staff user acting with ``role`` (see the module docstring)."""
    model = get_user_model()
    username = fields.pop(model.USERNAME_FIELD, f"{role}-{uuid.uuid4().hex[:8]}@staff.example.com")
    values = {model.USERNAME_FIELD: username, "is_staff": True, "is_superuser": role == ADMIN, **fields}
    if any(field.name == "role" for field in model._meta.concrete_fields):
        return model.objects.create_user(role=role, **values)
    user = model.objects.create_user(**values)
    if role != ADMIN:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _has(entry, operation: str, request) -> bool:
    check = getattr(entry, f"has_{operation}_permission")
    # Django's own signatures: a ModelAdmin's has_add_permission takes no object, an inline's does.
    if isinstance(entry, admin.ModelAdmin) and operation == "add":
        return check(request)
    return check(request, None)


def _grants_of(entry, request) -> set[str]:
    granted = {operation for operation in OPERATIONS if _has(entry, operation, request)}
    if isinstance(entry, admin.ModelAdmin):
        granted |= set(entry.get_actions(request))
    return granted


def admin_grants(*, role: str | None, site: admin.AdminSite | None = None) -> dict[str, set[str]]:
    """Return, for each admin (and inline) where ``role`` may do anything, the operations and actions it may.

    ``{"inventory.item": {"view", "add", "change", "adjust_stock"}, ...}``; ``role=None`` is a
    visitor with no role at all.
    """
    site = site or admin.site
    request = _request(staff_user(role) if role else AnonymousUser())
    return {label: granted for label, entry in admin_entries(site) if (granted := _grants_of(entry, request))}


def _expected(entry, role: str | None) -> set[str]:
    """What the declarations, read against the matrix, let ``role`` do with ``entry``."""
    declared = entry.role_permissions

    def holds(permission: str | None) -> bool:
        return permission is not None and role_has_permission(role, permission)

    expected = {operation for operation in OPERATIONS if holds(declared.get(operation))}
    if isinstance(entry, admin.ModelAdmin) and entry.actions is not None:
        for func, name, _ in entry._get_base_actions():
            governed, permission = action_matrix_permission(func, declared)
            if governed and holds(permission):
                expected.add(name)
    return expected


def admin_matrix_problems(site: admin.AdminSite | None = None) -> list[str]:
    """Return every way ``site`` departs from the role matrix (empty: none). Needs the database."""
    site = site or admin.site
    problems = admin_declaration_problems(site)
    for role in (*ROLES, None):
        request = _request(staff_user(role) if role else AnonymousUser())
        for label, entry in admin_entries(site):
            if not isinstance(entry, RoleAdminMixin):
                continue  # already reported as undeclared
            granted, expected = _grants_of(entry, request), _expected(entry, role)
            if granted - expected:
                problems.append(f"{label}: {role} is granted {sorted(granted - expected)} beyond the matrix.")
            if expected - granted:
                problems.append(f"{label}: {role} is refused {sorted(expected - granted)} that the matrix grants.")
            shown = isinstance(entry, admin.ModelAdmin) and entry.has_module_permission(request)
            if isinstance(entry, admin.ModelAdmin) and shown != bool(expected & set(OPERATIONS)):
                problems.append(f"{label}: {role} sees the app on the index page against the matrix.")
    return problems


def _form_fields(entry, request) -> set[str]:
    """The fields a staff member may type into on ``entry``'s add and change forms."""
    fields: set[str] = set()
    if isinstance(entry, admin.ModelAdmin):
        if entry.has_add_permission(request):
            fields |= set(entry.get_form(request, None, change=False).base_fields)
        if entry.has_change_permission(request):
            fields |= set(entry.get_form(request, entry.model(), change=True).base_fields)
            fields |= set(entry.list_editable)
    elif _has(entry, "add", request) or _has(entry, "change", request):
        fields |= set(entry.get_formset(request, None).form.base_fields)
    return fields


def editable_field_problems(site: admin.AdminSite | None = None) -> list[str]:
    """Return the admin form fields, editable by an ``admin`` (who may most), that hold state or amounts."""
    site = site or admin.site
    request = _request(staff_user(ADMIN))
    return [
        f"{label}: the field {name!r} can be edited by hand."
        for label, entry in admin_entries(site)
        for name in sorted(_form_fields(entry, request))
        if FORBIDDEN_FIELD.search(name) and name not in TERMS_FIELDS
    ]
