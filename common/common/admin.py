"""Django admin helpers: who may do what (the role matrix), writes through the services, refusals shown.

- :func:`role_of` says which role of :mod:`common.roles` a staff user acts with.
- :class:`RoleAdminMixin` grants a ModelAdmin's (or an inline's) view/add/change/delete
  and its actions from the role matrix, instead of Django's per-model permissions (which
  nobody assigns here): each admin declares ``role_permissions = {"view": "items.read",
  ...}``, each action is a :func:`role_action` naming its matrix permission. A key left
  out, or an action without a permission, is refused to everyone (fail closed), and
  ``checks.py`` reports it (``common.E002``).
- :func:`action_form_page`: the page of an action that asks for something first.
- :class:`ServiceErrorsAdminMixin`: a ModelAdmin whose ``save_model`` / ``delete_model``
  call services shows their refusals as messages, never a 500.

``common`` is an installed app, so Django's admin autodiscovery imports this module: at
the bottom it puts django.contrib.auth's own admins (the local staff users and groups,
which the sign-in keeps in step with the platform account) under the matrix too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from rest_framework.exceptions import APIException

from .exceptions import ServiceError
from .roles import ADMIN, PERMISSIONS, ROLES, role_has_permission
from .sso.staff import GROUP_ROLES

OPERATIONS = ("view", "add", "change", "delete")

_GROUP_ROLE_CACHE = "_common_group_role"


def role_of(user) -> str | None:
    """Return the role ``user`` acts with in the admin, or None (no rights at all).

    - nobody signed in, or an inactive account: None;
    - a user model with a ``role`` field (auth_svc's platform account): that role, the
      truth where it is kept, so a stale ``is_superuser`` cannot outrank a demotion;
    - otherwise (the local staff user of a service) a superuser is ``admin``, and anyone
      else has the role of the one Group named after a role they belong to; none, or
      several, is None.

    The group look-up is remembered on the user object, which lives for one request
    (like Django's own permission cache).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if _has_role_field(user):
        return user.role if user.role in ROLES else None
    if user.is_superuser:
        return ADMIN
    if not hasattr(user, _GROUP_ROLE_CACHE):
        names = [name for name in user.groups.values_list("name", flat=True) if name in GROUP_ROLES]
        setattr(user, _GROUP_ROLE_CACHE, names[0] if len(names) == 1 else None)
    return getattr(user, _GROUP_ROLE_CACHE)


def _has_role_field(user) -> bool:
    # Through ``_meta``, not ``type(user)``: request.user is a lazy proxy of the user.
    meta = getattr(user, "_meta", None)
    return meta is not None and any(field.name == "role" for field in meta.concrete_fields)


def permission_hook(permission: str) -> str:
    """Return the Django permission name of a matrix permission: ``stock.adjust`` -> ``stock_adjust``.

    An action listing it in ``allowed_permissions`` is offered when ``has_stock_adjust_permission``
    (defined on :class:`RoleAdminMixin` for every matrix permission) says so.
    """
    return permission.replace(".", "_")


def role_action(*, permission: str, description: str) -> Callable[[Callable], Callable]:
    """Declare an admin action offered to the roles that hold the matrix ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"{permission!r} is not a permission of common.roles.PERMISSIONS")

    def decorator(func: Callable) -> Callable:
        func = admin.action(description=description, permissions=[permission_hook(permission)])(func)
        func.matrix_permission = permission
        return func

    return decorator


def action_matrix_permission(func: Callable, role_permissions: Mapping[str, str | None]) -> tuple[bool, str | None]:
    """Return whether ``func`` is an action governed by the matrix, and the permission that governs it.

    A :func:`role_action` names its own; Django's ``delete_selected`` is governed by the
    admin's ``delete`` declaration. Any other action is not governed: ``(False, None)``.
    """
    if hasattr(func, "matrix_permission"):
        return True, func.matrix_permission
    if func is delete_selected:
        return True, role_permissions.get("delete")
    return False, None


class RoleAdminMixin:
    """Grant an admin's operations and actions by the role matrix (:mod:`common.roles`).

    Declare every operation, ``None`` where nobody may (not even ``admin``: an order is
    never added by hand)::

        role_permissions = {"view": "items.read", "add": "items.write",
                            "change": "items.write", "delete": "items.delete"}

    Put it first in the bases so its ``has_*_permission`` win over the ModelAdmin's.
    """

    role_permissions: ClassVar[Mapping[str, str | None]] = {}

    def role_allows(self, request, permission: str | None) -> bool:
        return permission is not None and role_has_permission(role_of(request.user), permission)

    def _operation_allowed(self, request, operation: str) -> bool:
        # A key left out is refused, like an unknown permission: fail closed.
        return self.role_allows(request, self.role_permissions.get(operation))

    def has_view_permission(self, request, obj=None) -> bool:
        return self._operation_allowed(request, "view")

    def has_add_permission(self, request, obj=None) -> bool:
        return self._operation_allowed(request, "add")

    def has_change_permission(self, request, obj=None) -> bool:
        return self._operation_allowed(request, "change")

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._operation_allowed(request, "delete")

    def has_module_permission(self, request) -> bool:
        return any(self._operation_allowed(request, operation) for operation in OPERATIONS)

    def get_actions(self, request):
        # Django offers an action that names no permission to every staff member: here
        # it is offered to nobody, and common.E002 names it.
        actions = super().get_actions(request)
        return {
            name: action
            for name, action in actions.items()
            if action_matrix_permission(action[0], self.role_permissions)[0]
        }


def _matrix_hook(permission: str):
    def has_permission(self, request, obj=None) -> bool:
        return self.role_allows(request, permission)

    has_permission.__name__ = f"has_{permission_hook(permission)}_permission"
    has_permission.__doc__ = f"Whether the staff member's role holds {permission!r} (common.roles)."
    return has_permission


for _permission in PERMISSIONS:
    setattr(RoleAdminMixin, f"has_{permission_hook(_permission)}_permission", _matrix_hook(_permission))


def admin_entries(site: admin.AdminSite) -> Iterator[tuple[str, object]]:
    """Yield ``(label, admin)`` for every registered ModelAdmin and each of its inlines.

    Inlines are labelled ``"<model> > <inline model>"`` (``sales.salesorder > sales.salesorderline``).
    """
    for model, model_admin in site._registry.items():
        label = model._meta.label_lower
        yield label, model_admin
        for inline_class in model_admin.inlines:
            yield f"{label} > {inline_class.model._meta.label_lower}", inline_class(model, site)


def admin_declaration_problems(site: admin.AdminSite) -> list[str]:
    """Return what in ``site`` is not governed by the role matrix, one sentence per problem."""
    problems = []
    for label, entry in admin_entries(site):
        if not isinstance(entry, RoleAdminMixin):
            problems.append(f"{label}: {type(entry).__name__} does not use common.admin.RoleAdminMixin.")
            continue
        declared = entry.role_permissions
        for operation in OPERATIONS:
            if operation not in declared:
                problems.append(f"{label}: role_permissions declares nothing for {operation!r} (None: nobody).")
        for key, permission in declared.items():
            if key not in OPERATIONS:
                problems.append(f"{label}: role_permissions has {key!r}, which is not one of {OPERATIONS}.")
            elif permission is not None and permission not in PERMISSIONS:
                problems.append(f"{label}: {key!r} names {permission!r}, which common.roles.PERMISSIONS lacks.")
        if isinstance(entry, admin.ModelAdmin):
            for func, name, _ in entry._get_base_actions():
                governed, permission = action_matrix_permission(func, declared)
                if not governed:
                    problems.append(f"{label}: action {name!r} names no matrix permission (use role_action).")
                elif func is not delete_selected and permission not in PERMISSIONS:
                    # (delete_selected follows "delete", reported above)
                    problems.append(f"{label}: action {name!r} names {permission!r}, which the matrix lacks.")
    return problems


class ServiceErrorsAdminMixin:
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django runs the form and save_model in one transaction: the refusal rolls all
        # of it back, then the operator sees why on the page they came from.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            self.message_user(request, str(exc.detail), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as exc:
            self.message_user(request, str(exc.detail), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def response_action(self, request, queryset):
        # A tampered selection ("nope" where the primary key is a UUID) raises when the
        # action first reads its queryset, before it writes anything: show it, never a 500.
        try:
            return super().response_action(request, queryset)
        except DjangoValidationError as exc:
            self.message_user(request, f"Nothing was changed: {' '.join(exc.messages)}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def service_error_text(exc) -> str:
    """Return a service refusal as one line for a message: its text and each detail that adds to it."""
    text = str(exc.detail)
    details = "; ".join(
        detail["message"] for detail in getattr(exc, "details", None) or [] if detail["message"] != text
    )
    return f"{text} {details}".strip()


def action_form_page(
    modeladmin, request, *, action: str, title: str, submit: str, template: str, form, **context
) -> TemplateResponse:
    """The page of ``action`` when it asks for something first (its form posts back to it with ``apply``).

    ``template`` extends ``admin/action_form.html`` (breadcrumbs, the form, the ``submit``
    button, a way back), says what the action does and carries the selected rows back as
    ``action_checkbox_name`` inputs; ``context`` adds what it shows (the rows, the order).
    """
    return TemplateResponse(
        request,
        template,
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "action": action,
            "submit": submit,
            "opts": modeladmin.model._meta,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            **context,
        },
    )


def each_through_service(modeladmin, request, rows, *, call: Callable, name: Callable, success: str) -> int:
    """Run ``call(row)`` for each row (a service call, its own transaction); return how many succeeded.

    Each refusal is shown as ``"<name(row)>: <why>"`` and leaves that row as it was; the
    others go on. ``success`` (``"Deactivated {done} user(s)."``) is shown if any succeeded.
    """
    done = 0
    for row in rows:
        try:
            call(row)
        except APIException as exc:
            modeladmin.message_user(request, f"{name(row)}: {service_error_text(exc)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, success.format(done=done), messages.SUCCESS)
    return done


def matrix_governed(model_admin_class: type, *, role_permissions: Mapping[str, str | None]) -> type:
    """Return ``model_admin_class`` (another app's admin) put under the matrix with ``role_permissions``."""
    return type(
        model_admin_class.__name__,
        (RoleAdminMixin, model_admin_class),
        {"role_permissions": role_permissions, "__module__": __name__},
    )


def reregister_governed(site: admin.AdminSite, model, *, role_permissions: Mapping[str, str | None]) -> None:
    """Replace ``model``'s admin in ``site`` (registered by another app) with its matrix-governed twin."""
    current = type(site.get_model_admin(model))
    site.unregister(model)
    site.register(model, matrix_governed(current, role_permissions=role_permissions))


# The local staff users and groups of a service are kept in step with the platform
# account by the sign-in: an admin may look at them; editing them by hand would only be
# undone at the next sign-in (accounts are managed in auth_svc's admin).
LOCAL_ACCOUNTS = {"view": "users.manage", "add": None, "change": None, "delete": None}


def _govern_local_accounts(site: admin.AdminSite) -> None:
    # Imported here: django.contrib.auth's admin registers Group (and User, unless the
    # user model is swapped) when it is imported; make sure it has been.
    from django.contrib.auth import admin as auth_admin  # noqa: F401
    from django.contrib.auth.models import Group, User

    for model in (Group, User):
        if site.is_registered(model) and not isinstance(site.get_model_admin(model), RoleAdminMixin):
            reregister_governed(site, model, role_permissions=LOCAL_ACCOUNTS)


_govern_local_accounts(admin.site)
