"""The role matrix (contract §3) and RolePermission, which enforces it."""

from types import SimpleNamespace

import pytest

from common import roles
from common.permissions import RolePermission, required_permission
from erp_testkit import auth_client

IM, FM, ADMIN = roles.INVENTORY_MANAGER, roles.FINANCE_MANAGER, roles.ADMIN

# contract §3 transcribed by hand: which non-admin roles hold each permission.
CONTRACT_MATRIX = {
    "contacts.read": {IM, FM},
    "contacts.write": {IM, FM},
    "contacts.delete": {FM},
    "items.read": {IM, FM},
    "items.write": {IM, FM},
    "items.delete": {FM},
    "stock.read": {IM, FM},
    "stock.adjust": {IM},
    "orders.read": {IM, FM},
    "orders.write": {IM, FM},
    "sales.confirm": {FM},
    "sales.cancel": {FM},
    "purchase.receive": {IM, FM},
    "purchase.cancel": {IM, FM},
    "vendor_items.write": {IM, FM},
    "orders.pay": {FM},
    "users.manage": set(),
    # Not a row of the contract's table: the outbox/inbox pages, for admin ("may do everything").
    "events.read": set(),
    "jobs.manage": set(),
    "self": {IM, FM},
}
MATRIX_CASES = [(permission, role) for permission in CONTRACT_MATRIX for role in roles.ROLES]


def _check(
    *, role=None, is_service=False, caller="sales", method="GET", action=None, required=None, service_actions=None
):
    user = SimpleNamespace(is_authenticated=True, role=role, is_service=is_service, id=caller)
    request = SimpleNamespace(user=user, method=method)
    view = SimpleNamespace(
        action=action,
        required_permissions=required or {},
        service_actions=service_actions or {},
        http_method_names=["get", "post", "put", "patch", "delete", "head", "options"],
        get=None,
        post=None,
        options=None,
    )
    return RolePermission().has_permission(request, view)


def test_roles_table_is_the_contract():
    assert {name: set(holders) for name, holders in roles.PERMISSIONS.items()} == CONTRACT_MATRIX


@pytest.mark.parametrize(("permission", "role"), MATRIX_CASES)
def test_role_permission_follows_the_matrix(permission, role):
    # given
    expected = role == ADMIN or role in CONTRACT_MATRIX[permission]

    # when
    allowed = _check(role=role, action="list", required={"list": permission})

    # then
    assert allowed is expected
    assert roles.role_has_permission(role, permission) is expected
    assert (role in roles.roles_for(permission)) is expected


@pytest.mark.parametrize("role", roles.ROLES)
def test_an_action_the_view_does_not_name_is_refused(role):
    assert _check(role=role, action="destroy", required={"list": "contacts.read"}) is False


@pytest.mark.parametrize("role", roles.ROLES)
def test_an_unknown_permission_is_refused_even_to_admin(role):
    assert _check(role=role, action="list", required={"list": "contacts.purge"}) is False
    assert roles.role_has_permission(role, "contacts.purge") is False


@pytest.mark.parametrize("role", [None, "", "superuser"])
def test_a_role_outside_the_matrix_holds_nothing(role):
    assert _check(role=role, action="list", required={"list": "contacts.read"}) is False


@pytest.mark.parametrize("permission", sorted(CONTRACT_MATRIX))
def test_service_token_is_refused_unless_the_action_is_a_service_action(permission):
    assert _check(is_service=True, action="list", required={"list": permission}) is False
    assert _check(
        is_service=True, action="retrieve", required={"retrieve": permission}, service_actions={"retrieve": {"sales"}}
    )


@pytest.mark.parametrize("caller", ["purchase", "gateway", "auth", "inventory", ""])
def test_a_service_action_serves_only_the_callers_it_names(caller):
    # given: a read that sales alone makes
    served = {"retrieve": frozenset({"sales"})}

    # then
    assert _check(is_service=True, caller=caller, action="retrieve", service_actions=served) is False
    assert _check(is_service=True, caller="sales", action="retrieve", service_actions=served) is True


def test_service_token_with_a_role_claim_is_still_a_service():
    assert _check(role=ADMIN, is_service=True, action="destroy", required={"destroy": "contacts.delete"}) is False


def test_custom_action_does_not_inherit_the_method_permission():
    # given: a viewset that names POST for create and forgets its "confirm" action
    mapping = {"post": "orders.write"}

    # then
    assert _check(role=IM, method="POST", action="create", required=mapping) is True
    assert _check(role=IM, method="POST", action="confirm", required=mapping) is False


def test_required_permission_prefers_the_action_over_the_method():
    view = SimpleNamespace(action="list", required_permissions={"list": "a", "get": "b"})

    assert required_permission(view, SimpleNamespace(method="GET")) == "a"


def test_anonymous_is_refused():
    request = SimpleNamespace(user=None, method="GET")
    view = SimpleNamespace(action="list", required_permissions={"list": "contacts.read"})

    assert RolePermission().has_permission(request, view) is False


# Over HTTP, with the test project's views.


def test_role_without_the_permission_gets_403_in_the_envelope():
    # when: an inventory manager deletes (items.delete is FM only)
    response = auth_client(IM).delete("/envelope")

    # then
    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "error": {"type": "forbidden", "message": "Your role does not allow this operation.", "details": None},
    }


def test_service_token_on_a_user_endpoint_is_403():
    response = auth_client(None, token_type="service", user_id="sales").get("/widgets")

    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"


@pytest.mark.django_db
def test_service_token_on_a_service_action_is_allowed():
    # given
    from tests.project.models import Gadget

    gadget = Gadget.objects.create(name="cog")

    # when
    response = auth_client(None, token_type="service", user_id="sales").get(f"/gadgets/{gadget.id}")

    # then
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "cog"


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["gateway", "auth", "inventory"])
def test_a_service_token_of_a_caller_the_action_does_not_name_is_403(caller):
    # given
    from tests.project.models import Gadget

    gadget = Gadget.objects.create(name="cog")

    # when
    response = auth_client(None, token_type="service", user_id=caller).get(f"/gadgets/{gadget.id}")

    # then
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"


@pytest.mark.parametrize("role", [IM, ADMIN])
def test_a_method_the_view_lacks_is_405_not_403(role):
    # when
    response = auth_client(role).patch("/widgets", {}, format="json")

    # then
    assert response.status_code == 405
    assert response.json() == {
        "status": 405,
        "error": {"type": "method_not_allowed", "message": 'Method "PATCH" not allowed.', "details": None},
    }
