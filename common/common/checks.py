"""Django system checks of ``common`` (run by ``manage.py check``, ``migrate``, ``runserver`` and tests).

- ``common.E001``: a view names a permission in ``required_permissions`` that the role
  matrix (:data:`common.roles.PERMISSIONS`) does not hold; RolePermission would refuse that
  action to every role but say nothing about the typo.
- ``common.E002``: a registered admin (or inline, or action) whose rights are not derived
  from the role matrix (:func:`common.admin.admin_declaration_problems`): it would be
  refused to everyone, or, for an action naming no permission, offered to nobody.
- ``common.E003``: a view's ``service_actions`` is not a mapping of action to the callers
  (service names) it serves (common.permissions): the form before issue 26, a bare list of
  actions, would open them to any service's token.
- ``common.W001``: no JWT public key (a DEBUG process without ``JWT_PUBLIC_KEY[_FILE]`` or the
  local run's key pair): every token is refused until one is configured.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.urls import URLPattern, URLResolver, get_resolver

from .roles import PERMISSIONS


def _view_classes(patterns) -> dict[str, type]:
    """Return the view classes routed by ``patterns`` (recursively), by dotted name."""
    found: dict[str, type] = {}
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found |= _view_classes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            # DRF's as_view() sets .cls, Django's (and DRF's, which wraps it) .view_class.
            view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
            if view is not None:
                found[f"{view.__module__}.{view.__qualname__}"] = view
    return found


@register(Tags.security)
def check_view_permissions(app_configs=None, **kwargs) -> list[Error]:
    """Every permission a routed view requires exists in the role matrix."""
    errors = []
    for name, view in sorted(_view_classes(get_resolver().url_patterns).items()):
        for action, permission in sorted((getattr(view, "required_permissions", None) or {}).items()):
            if permission not in PERMISSIONS:
                errors.append(
                    Error(
                        f"{name}.required_permissions[{action!r}] names {permission!r}, "
                        "which common.roles.PERMISSIONS does not hold.",
                        hint="Add the permission to the role matrix (contract §3) or correct its name.",
                        obj=view,
                        id="common.E001",
                    )
                )
    return errors


def _service_actions_problem(service_actions) -> str | None:
    if not isinstance(service_actions, dict):
        return "is not a mapping of action to the callers it serves"
    for action, callers in service_actions.items():
        if isinstance(callers, str) or not isinstance(callers, set | frozenset | tuple | list):
            return f"[{action!r}] is not a collection of service names"
        if not callers or not all(isinstance(caller, str) and caller for caller in callers):
            return f"[{action!r}] names no caller, or one that is not a service name"
    return None


@register(Tags.security)
def check_service_actions(app_configs=None, **kwargs) -> list[Error]:
    """Every view that admits service tokens names, per action, the services it admits."""
    errors = []
    for name, view in sorted(_view_classes(get_resolver().url_patterns).items()):
        if not hasattr(view, "service_actions"):
            continue
        if problem := _service_actions_problem(view.service_actions):
            errors.append(
                Error(
                    f"{name}.service_actions {problem}.",
                    hint='Write {"<action>": frozenset({"sales", "purchase"})}: the callers of each internal read '
                    "(contract §3).",
                    obj=view,
                    id="common.E003",
                )
            )
    return errors


@register(Tags.admin, Tags.security)
def check_admin_permissions(app_configs=None, **kwargs) -> list[Error]:
    """Every registered admin, inline and action is governed by the role matrix."""
    if not apps.is_installed("django.contrib.admin"):
        return []  # the gateway: no admin
    from django.contrib import admin

    from .admin import admin_declaration_problems

    return [
        Error(
            problem,
            hint="Give the admin common.admin.RoleAdminMixin, a role_permissions entry for each of view, add, "
            "change and delete, and make each action a common.admin.role_action.",
            id="common.E002",
        )
        for problem in admin_declaration_problems(admin.site)
    ]


@register(Tags.security)
def check_jwt_public_key(app_configs=None, **kwargs) -> list[Warning]:
    if settings.SIMPLE_JWT.get("VERIFYING_KEY"):
        return []
    return [
        Warning(
            "No JWT public key: every bearer token will be refused.",
            hint="Set JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE, or make the local run's pair: python -m common.keys",
            id="common.W001",
        )
    ]
