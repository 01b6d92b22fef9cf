"""DRF permission enforcing the role matrix of :mod:`common.roles`.

A view declares ``required_permissions = {"list": "contacts.read", ...}`` keyed by
action (viewsets) or HTTP method (plain views). An action the map does not name
is refused, so a new endpoint is closed until someone decides who may use it.
Service tokens are refused everywhere except the actions a view lists in
``service_actions``, each with the callers it serves (``{"retrieve": {"sales",
"purchase"}}``): the internal reads services make of each other. A service token names
its caller (``user_id`` = the service), so a token that leaked from one service opens
only what that service reads, and the gateway's, which no action names, opens nothing.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from .roles import role_has_permission

# Viewset actions that may fall back to the permission of their HTTP method. A custom
# ``@action`` (``confirm``, ``pay``) never does: a POST permission meant for ``create``
# must not silently open ``POST /{id}/confirm`` too.
STANDARD_ACTIONS = frozenset({"list", "retrieve", "create", "update", "partial_update", "destroy", "metadata"})


def view_action(view, request) -> str:
    """Return the viewset action, or the lower-cased HTTP method for a plain view."""
    return getattr(view, "action", None) or request.method.lower()


def required_permission(view, request) -> str | None:
    """Return the permission the view requires for this request, or None if it names none."""
    mapping = getattr(view, "required_permissions", {})
    action = getattr(view, "action", None)
    if action is None:
        return mapping.get(request.method.lower())
    if action in mapping:
        return mapping[action]
    return mapping.get(request.method.lower()) if action in STANDARD_ACTIONS else None


def _method_not_implemented(view, request) -> bool:
    # DRF checks permissions before it dispatches, so without this an authenticated
    # PATCH on a view without ``patch`` would be a 403 instead of the contract's 405.
    method = request.method.lower()
    return method not in getattr(view, "http_method_names", ()) or not hasattr(view, method)


class RolePermission(BasePermission):
    """Allow a request when the caller's role holds the permission its action requires."""

    message = "Your role does not allow this operation."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if _method_not_implemented(view, request):
            return True  # dispatch answers 405; nothing runs
        if getattr(user, "is_service", False):
            served = getattr(view, "service_actions", None)
            if not isinstance(served, dict):  # none, or a form without callers (common.E003): closed
                return False
            return str(user.id) in served.get(view_action(view, request), ())
        if request.method == "OPTIONS":
            return True
        permission = required_permission(view, request)
        if permission is None:
            return False
        return role_has_permission(getattr(user, "role", None), permission)
