"""The test project's one admin: gadgets, with their dates (the time-zone tests read them)."""

from django.contrib import admin

from common.admin import RoleAdminMixin

from .models import Gadget


@admin.register(Gadget)
class GadgetAdmin(RoleAdminMixin, admin.ModelAdmin):
    role_permissions = {"view": "items.read", "add": "items.write", "change": "items.write", "delete": "items.delete"}
    list_display = ("name", "created_at")
