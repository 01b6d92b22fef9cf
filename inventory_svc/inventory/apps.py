"""Django app config of ``inventory``: the items, their stock and the stock ledger inventory_svc owns."""

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    default_auto_field = "django.db.models.BigAutoField"
