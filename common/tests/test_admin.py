"""common.admin: the role a staff user acts with, admins governed by the role matrix, and the walk checking them."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, Group

from common.admin import RoleAdminMixin, role_action, role_of
from common.checks import check_admin_permissions
from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from erp_testkit.admin import admin_grants, admin_matrix_problems, editable_field_problems, staff_user
from tests.project.admin import GadgetAdmin
from tests.project.models import Gadget

pytestmark = pytest.mark.django_db

ITEMS = {"view": "items.read", "add": "items.write", "change": "items.write", "delete": "items.delete"}
LABEL = Gadget._meta.label_lower


# ------------------------------------------------------------------ role_of


def _fresh(user):
    """The user as the next request loads it (role_of remembers its group look-up per object)."""
    return type(user).objects.get(pk=user.pk)


def test_nobody_signed_in_has_no_role():
    assert role_of(AnonymousUser()) is None
    assert role_of(None) is None


def test_a_superuser_is_admin():
    assert role_of(staff_user(ADMIN)) == ADMIN


@pytest.mark.parametrize("role", [INVENTORY_MANAGER, FINANCE_MANAGER])
def test_the_group_named_after_a_role_gives_that_role(role):
    # given: the role's group beside one that is no role
    user = staff_user(role)
    user.groups.add(Group.objects.create(name="night shift"))

    # then
    assert role_of(_fresh(user)) == role


def test_an_inactive_account_has_no_role_even_as_superuser():
    # given
    user = staff_user(ADMIN)
    user.is_active = False
    user.save()

    # then
    assert role_of(_fresh(user)) is None


def test_two_role_groups_are_no_role():
    # given
    user = staff_user(INVENTORY_MANAGER)
    user.groups.add(Group.objects.create(name=FINANCE_MANAGER))

    # then: ambiguous, so nothing
    assert role_of(_fresh(user)) is None


def test_a_group_named_admin_makes_nobody_an_admin():
    # given: admin is carried by is_superuser alone
    user = staff_user(INVENTORY_MANAGER)
    user.groups.set([Group.objects.create(name=ADMIN)])

    # then
    assert role_of(_fresh(user)) is None


def test_a_staff_user_without_a_role_group_may_do_nothing():
    # given
    user = staff_user(INVENTORY_MANAGER)
    user.groups.clear()
    site = _site(GadgetAdmin)
    request = type("Request", (), {"user": _fresh(user), "GET": {}})()

    # then
    assert role_of(request.user) is None
    assert not site.get_model_admin(Gadget).has_module_permission(request)


# ------------------------------------------------------------------ the walk


def _site(model_admin_class) -> admin.AdminSite:
    site = admin.AdminSite(name="walk")
    site.register(Gadget, model_admin_class)
    return site


def test_a_governed_admin_follows_the_matrix_for_every_role():
    # given
    site = _site(GadgetAdmin)

    # then
    assert admin_matrix_problems(site) == []
    assert admin_grants(role=INVENTORY_MANAGER, site=site) == {LABEL: {"view", "add", "change"}}
    assert admin_grants(role=FINANCE_MANAGER, site=site) == {
        LABEL: {"view", "add", "change", "delete", "delete_selected"}
    }
    assert admin_grants(role=None, site=site) == {}


def test_an_admin_without_the_mixin_is_reported():
    # given
    site = _site(admin.ModelAdmin)

    # then
    assert admin_matrix_problems(site) == [f"{LABEL}: ModelAdmin does not use common.admin.RoleAdminMixin."]


def test_an_operation_left_undeclared_is_refused_to_everyone_and_reported():
    # given
    class NoDelete(RoleAdminMixin, admin.ModelAdmin):
        role_permissions = {"view": "items.read", "add": "items.write", "change": "items.write"}

    site = _site(NoDelete)

    # then
    assert admin_matrix_problems(site) == [f"{LABEL}: role_permissions declares nothing for 'delete' (None: nobody)."]
    assert admin_grants(role=ADMIN, site=site) == {LABEL: {"view", "add", "change"}}


def test_an_unknown_permission_or_key_is_reported():
    # given
    class Typo(RoleAdminMixin, admin.ModelAdmin):
        role_permissions = {**ITEMS, "delete": "items.purge", "publish": "items.write"}

    # then
    assert admin_matrix_problems(_site(Typo)) == [
        f"{LABEL}: 'delete' names 'items.purge', which common.roles.PERMISSIONS lacks.",
        f"{LABEL}: role_permissions has 'publish', which is not one of ('view', 'add', 'change', 'delete').",
    ]


def test_an_action_naming_no_matrix_permission_is_offered_to_nobody_and_reported():
    # given: a plain Django action, and one governed by Django's "change" rather than the matrix
    @admin.action(description="Rename")
    def rename(modeladmin, request, queryset):
        pass

    @admin.action(description="Touch", permissions=["change"])
    def touch(modeladmin, request, queryset):
        pass

    class Ungoverned(RoleAdminMixin, admin.ModelAdmin):
        role_permissions = ITEMS
        actions = (rename, touch)

    site = _site(Ungoverned)

    # then
    assert admin_matrix_problems(site) == [
        f"{LABEL}: action 'rename' names no matrix permission (use role_action).",
        f"{LABEL}: action 'touch' names no matrix permission (use role_action).",
    ]
    assert admin_grants(role=ADMIN, site=site)[LABEL] == {"view", "add", "change", "delete", "delete_selected"}


def test_a_role_action_is_offered_to_the_roles_holding_its_permission():
    # given
    class WithAction(GadgetAdmin):
        actions = ("recount",)

        @role_action(permission="stock.adjust", description="Recount")
        def recount(self, request, queryset):
            pass

    site = _site(WithAction)

    # then
    assert admin_matrix_problems(site) == []
    assert "recount" in admin_grants(role=INVENTORY_MANAGER, site=site)[LABEL]
    assert "recount" not in admin_grants(role=FINANCE_MANAGER, site=site)[LABEL]


def test_role_action_refuses_a_permission_the_matrix_lacks():
    with pytest.raises(ValueError, match=r"'stock\.steal' is not a permission"):
        role_action(permission="stock.steal", description="Steal")


def test_an_admin_granting_more_than_the_matrix_is_reported():
    # given: an override that lets everybody delete
    class Generous(GadgetAdmin):
        def has_delete_permission(self, request, obj=None):
            return True

    # then
    assert admin_matrix_problems(_site(Generous)) == [
        f"{LABEL}: inventory_manager is granted ['delete', 'delete_selected'] beyond the matrix.",
        f"{LABEL}: None is granted ['delete', 'delete_selected'] beyond the matrix.",
    ]


def test_an_admin_refusing_what_the_matrix_grants_is_reported():
    # given
    class Stingy(GadgetAdmin):
        def has_add_permission(self, request):
            return False

    # then
    problems = admin_matrix_problems(_site(Stingy))
    assert f"{LABEL}: inventory_manager is refused ['add'] that the matrix grants." in problems
    assert f"{LABEL}: admin is refused ['add'] that the matrix grants." in problems


def test_an_editable_state_field_is_reported():
    # given: a form that lets staff type a quantity
    class QuantityForm(forms.ModelForm):
        quantity = forms.IntegerField()

        class Meta:
            model = Gadget
            fields = ["name"]

    class Editable(GadgetAdmin):
        form = QuantityForm

    # then
    assert editable_field_problems(_site(GadgetAdmin)) == []
    assert editable_field_problems(_site(Editable)) == [f"{LABEL}: the field 'quantity' can be edited by hand."]


def test_the_system_check_reports_an_ungoverned_admin(monkeypatch):
    # given
    assert check_admin_permissions() == []
    monkeypatch.setitem(admin.site._registry, Gadget, admin.ModelAdmin(Gadget, admin.site))

    # when
    errors = check_admin_permissions()

    # then
    assert [(error.id, error.msg) for error in errors] == [
        ("common.E002", f"{LABEL}: ModelAdmin does not use common.admin.RoleAdminMixin.")
    ]


def test_django_auth_admins_are_governed_as_local_accounts():
    # The local staff users and groups: an admin may look, nobody edits (the sign-in keeps them).
    for model in (Group, staff_user(ADMIN).__class__):
        model_admin = admin.site.get_model_admin(model)
        assert isinstance(model_admin, RoleAdminMixin)
        assert model_admin.role_permissions == {"view": "users.manage", "add": None, "change": None, "delete": None}
