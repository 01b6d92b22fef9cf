"""DRF permission enforcing the role matrix of :mod:`common.roles`.

A view declares ``required_permissions = {"list": "contacts.read", ...}`` keyed by
action (viewsets) or HTTP method (plain views). An action the map does not name
is refused, so a new endpoint is closed until someone decides who may use it.
Service tokens are refused everywhere except the actions a view lists in
``service_actions`` (the internal reads services make of each other).
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from .roles import role_has_permission


def required_permission(view, request) -> str | None:
    mapping = getattr(view, "required_permissions", {})
    action = getattr(view, "action", None)
    return mapping.get(action) or mapping.get(request.method.lower())


class RolePermission(BasePermission):
    message = "Your role does not allow this operation."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if request.method == "OPTIONS":
            return True
        if getattr(user, "is_service", False):
            action = getattr(view, "action", None) or request.method.lower()
            return action in getattr(view, "service_actions", ())
        permission = required_permission(view, request)
        if permission is None:
            return False
        return role_has_permission(getattr(user, "role", None), permission)
