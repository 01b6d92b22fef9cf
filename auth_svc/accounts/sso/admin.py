"""The provider's records in auth_svc's admin: read-only, for the platform's admins only.

django-oauth-toolkit registers an admin for each of its models; its settings
(``OAUTH2_PROVIDER["*_ADMIN_CLASS"]``) point here instead, so they follow the role matrix
like every other admin (common.admin). Applications come from the environment
(``register_sso_clients``) and tokens from sign-ins: nothing here is edited by hand.
"""

from django.contrib import admin

from common.admin import RoleAdminMixin

PROVIDER_RECORDS = {"view": "users.manage", "add": None, "change": None, "delete": None}


class ProviderRecordAdmin(RoleAdminMixin, admin.ModelAdmin):
    role_permissions = PROVIDER_RECORDS


class ApplicationAdmin(ProviderRecordAdmin):
    list_display = ("client_id", "name", "client_type", "authorization_grant_type", "skip_authorization")
    exclude = ("client_secret",)


class AccessTokenAdmin(ProviderRecordAdmin):
    list_display = ("user", "application", "expires", "created")
    exclude = ("token", "token_checksum")


class GrantAdmin(ProviderRecordAdmin):
    list_display = ("user", "application", "expires", "created")
    exclude = ("code", "code_challenge")


class IDTokenAdmin(ProviderRecordAdmin):
    list_display = ("user", "application", "jti", "expires", "created")


class RefreshTokenAdmin(ProviderRecordAdmin):
    list_display = ("user", "application", "revoked", "created")
    exclude = ("token", "token_checksum")
