from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Installs common's management commands in every service (no models of its own)."""

    name = "common"
    verbose_name = "ERP common"
