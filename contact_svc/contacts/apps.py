"""Django app config of ``contacts``: the customers and vendors contact_svc owns."""

from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    default_auto_field = "django.db.models.BigAutoField"
