"""Withdrawn access ends within seconds (contract §3), on the real processes of the local run.

A user's token works at the gateway and at a service straight; an admin deactivates the user,
changes their role, or their password is reset; within 5 s the gateway and the service refuse
that token with the one 401, and a token minted after the change works.
"""

from __future__ import annotations

import re
import time

import pytest
from test_local_run import ADMIN_USER, _call, _http, _login, _port, _register

# Contract §3: every service and the gateway refuse a withdrawn token within this.
WITHIN_SECONDS = 5
INVALID = {"type": "unauthorized", "message": "Invalid or expired token.", "details": None}
NEW_PASSWORD = "An0ther-Sturdy-Pass-2026"


def _statuses(platform, token: str) -> dict[str, int]:
    """What the gateway and inventory_svc (asked straight, around the gateway) answer to the token."""
    gateway = _call("GET", f"{platform['gateway']}/api/items?limit=1", token=token)[0]
    service = _call("GET", f"http://127.0.0.1:{_port(platform, 'inventory')}/items?limit=1", token=token)
    return {"gateway": gateway, "inventory": service[0]}


def _refused_everywhere_within_bound(platform, token: str) -> dict[str, int | list[int]]:
    """What the gateway and inventory answer ``token`` once the bound has passed, asked eight times each.

    The bound is a promise about every process (each polls on its own clock), so the answer is
    read after it, several times (any worker may take a request): one status each when they agree.
    """
    time.sleep(WITHIN_SECONDS)
    seen: dict[str, set[int]] = {}
    for _ in range(8):
        for where, status in _statuses(platform, token).items():
            seen.setdefault(where, set()).add(status)
    return {where: next(iter(statuses)) if len(statuses) == 1 else sorted(statuses) for where, statuses in seen.items()}


def _mailed_reset_token(platform, email: str) -> str:
    folder = platform["log"].parent / "mail"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in folder.glob("*.log"):
            text = path.read_text()
            if f"To: {email}" in text:
                return re.search(r"^([A-Za-z0-9_-]{40,})$", text, re.MULTILINE).group(1)
        time.sleep(0.2)
    raise AssertionError(f"no reset mail to {email}")


def _withdraw(platform, change: str, user_id: str, email: str) -> str:
    """Make the change; return the password the user logs in with afterwards (None: cannot log in)."""
    gateway = platform["gateway"]
    admin = _login(gateway, *ADMIN_USER)
    if change == "deactivation":
        assert _call("POST", f"{gateway}/api/auth/users/{user_id}/deactivate", token=admin)[0] == 200
        return None
    if change == "role change":
        body = {"role": "finance_manager"}
        assert _call("PATCH", f"{gateway}/api/auth/users/{user_id}", body, token=admin)[0] == 200
        return "Sturdy-Pass-2026"
    # From an address of its own: the reset throttle counts per client address.
    forgot = {"email": email}
    assert _http(_port(platform, "gateway"), "POST", "/api/auth/forgot-password", forgot, source="127.0.0.9")[0] == 200
    body = {"reset_token": _mailed_reset_token(platform, email), "new_password": NEW_PASSWORD}
    assert _call("POST", f"{gateway}/api/auth/reset-password", body)[0] == 200
    return NEW_PASSWORD


@pytest.mark.parametrize("change", ["deactivation", "role change", "password reset"])
def test_a_withdrawn_token_is_refused_by_the_gateway_and_a_service_within_seconds(platform, change):
    # given: a user of its own whose token works through the gateway and at inventory_svc straight
    user_id, email, password = _register(platform["gateway"], "inventory_manager")
    old = _login(platform["gateway"], email, password)
    assert _statuses(platform, old) == {"gateway": 200, "inventory": 200}

    # when
    new_password = _withdraw(platform, change, user_id, email)

    # then: refused by both within the bound, with the one 401
    assert _refused_everywhere_within_bound(platform, old) == {"gateway": 401, "inventory": 401}
    assert _call("GET", f"{platform['gateway']}/api/items", token=old)[1]["error"] == INVALID
    if new_password is not None:  # and a token minted after the change works at once
        fresh = _login(platform["gateway"], email, new_password)
        assert _statuses(platform, fresh) == {"gateway": 200, "inventory": 200}
