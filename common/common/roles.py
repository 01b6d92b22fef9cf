"""The contract's role matrix (contract §3), declared once as data.

Views name a *permission* per action; this table says which roles hold it.
``admin`` holds every permission. Service tokens hold none of these: a view
admits them only on the actions it lists in ``service_actions``, for the callers
it names there (see common.permissions).
Tests and API docs read this table, so it is the single source of truth.
"""

INVENTORY_MANAGER = "inventory_manager"
FINANCE_MANAGER = "finance_manager"
ADMIN = "admin"
ROLES = (INVENTORY_MANAGER, FINANCE_MANAGER, ADMIN)

IM, FM = INVENTORY_MANAGER, FINANCE_MANAGER

PERMISSIONS: dict[str, frozenset[str]] = {
    "contacts.read": frozenset({IM, FM}),
    "contacts.write": frozenset({IM, FM}),
    "contacts.delete": frozenset({FM}),
    "items.read": frozenset({IM, FM}),
    "items.write": frozenset({IM, FM}),
    "items.delete": frozenset({FM}),
    "stock.read": frozenset({IM, FM}),
    "stock.adjust": frozenset({IM}),
    "orders.read": frozenset({IM, FM}),
    "orders.write": frozenset({IM, FM}),
    "sales.confirm": frozenset({FM}),
    "sales.cancel": frozenset({FM}),
    "purchase.receive": frozenset({IM, FM}),
    "purchase.cancel": frozenset({IM, FM}),
    "vendor_items.write": frozenset({IM, FM}),
    "orders.pay": frozenset({FM}),
    "users.manage": frozenset(),
    # A service's outbox and inbox (the Django admin's event pages): operating the
    # platform, not among what the contract lets IM and FM read, so admin only.
    "events.read": frozenset(),
    # A service's background jobs in the back office: the schedules (when each job runs, or
    # not at all) and the integrity checks' results. Operating the platform: admin only.
    "jobs.manage": frozenset(),
    # Any authenticated user, whatever the role (``me``, ``logout``).
    "self": frozenset({IM, FM}),
}


def role_has_permission(role: str | None, permission: str) -> bool:
    if role == ADMIN:
        return permission in PERMISSIONS
    return role in PERMISSIONS.get(permission, frozenset())


def roles_for(permission: str) -> list[str]:
    """Return the roles that hold ``permission``, admin included, for docs and tests."""
    return sorted(PERMISSIONS[permission] | {ADMIN})


def roles_text(permission: str) -> str:
    """``"Roles: admin, finance_manager."``: the API docs' sentence, from the matrix so it cannot drift."""
    return f"Roles: {', '.join(roles_for(permission))}."
