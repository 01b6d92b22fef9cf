"""Django admin for users: the standard user admin, keyed by email, every write through the services.

So an operator's edit follows the API's rules: deactivating revokes the user's refresh
tokens, a role change or deactivation cannot remove the last active admin, a new
password (an admin's for a user, or the signed-in user's own) revokes the old sessions.
A refusal (409) is shown as a message, never a 500.
Users are deactivated, never deleted (their tokens and history stay consistent).

Managing users is ``users.manage`` in the role matrix: ``admin`` only (common.admin).
``is_staff`` and ``is_superuser`` are shown, not edited: admin rights follow the role,
and the sign-in keeps those flags in step with it. The issued and revoked refresh
tokens can be looked at, never edited (deleting a revocation would revive a token).
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm as BaseOwnPasswordChangeForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm as BaseAdminPasswordChangeForm
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse_lazy

# Imported first so that its admins are registered before they are replaced below.
from rest_framework_simplejwt.token_blacklist import admin as token_blacklist_admin  # noqa: F401
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from common.admin import (
    RoleAdminMixin,
    ServiceErrorsAdminMixin,
    each_through_service,
    reregister_governed,
    role_action,
)

from . import services
from .models import User


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "role")


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class AdminPasswordChangeForm(BaseAdminPasswordChangeForm):
    """The standard form, saving through :func:`services.user_password_set` (revokes tokens)."""

    def save(self, commit=True):
        self.user = services.user_password_set(user=self.user, password=self.cleaned_data["password1"])
        return self.user


class OwnPasswordChangeForm(BaseOwnPasswordChangeForm):
    """The admin's "Change password" of the signed-in user, saving through :func:`services.user_password_set`.

    Django's saves the row and leaves the user's other sessions and access tokens valid; a new
    password ends them, whoever sets it (contract §3).
    """

    def save(self, commit=True):
        self.user = services.user_password_set(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class OwnPasswordChangeView(PasswordChangeView):
    """``AdminSite.password_change`` with :class:`OwnPasswordChangeForm` (the site names its form in code only).

    Mounted at the admin's ``password_change/`` before the admin's URLs (config.urls).
    """

    form_class = OwnPasswordChangeForm
    success_url = reverse_lazy("admin:password_change_done")

    def get_context_data(self, **kwargs):
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}


own_password_change = admin.site.admin_view(OwnPasswordChangeView.as_view())


USERS_MANAGE = "users.manage"


@admin.register(User)
class UserAdmin(RoleAdminMixin, ServiceErrorsAdminMixin, BaseUserAdmin):
    role_permissions = {"view": USERS_MANAGE, "add": USERS_MANAGE, "change": USERS_MANAGE, "delete": None}
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("email", "role", "is_active", "created_at")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("email",)
    ordering = ("-created_at",)
    readonly_fields = ("is_staff", "is_superuser", "created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Access", {"fields": ("role", "is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "password1", "password2")}),)
    filter_horizontal = ()
    actions = ("deactivate",)

    def save_model(self, request, obj: User, form, change: bool) -> None:
        if change:
            stored = User.objects.get(pk=obj.pk)
            changes = {field: form.cleaned_data[field] for field in form.changed_data}
            saved = services.user_admin_change(user=stored, changes=changes)
        else:
            saved = services.user_create(
                email=form.cleaned_data["email"], password=form.cleaned_data["password1"], role=obj.role
            )
        # The admin goes on with ``obj`` (log entry, redirect): give it the saved row.
        obj.pk = saved.pk
        obj.refresh_from_db()

    @role_action(permission=USERS_MANAGE, description="Deactivate selected users (revokes their sessions)")
    def deactivate(self, request, queryset) -> None:
        each_through_service(
            self,
            request,
            queryset,
            call=lambda user: services.user_deactivate(user=user),
            name=lambda user: user.email,
            success="Deactivated {done} user(s).",
        )


TOKENS_READ_ONLY = {"view": USERS_MANAGE, "add": None, "change": None, "delete": None}
for _model in (OutstandingToken, BlacklistedToken):
    reregister_governed(admin.site, _model, role_permissions=TOKENS_READ_ONLY)
