from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Installs common's management commands in every service (no models of its own)."""

    name = "common"
    verbose_name = "ERP common"

    def ready(self):
        # Registers the OpenAPI description of JWTAuthentication with drf-spectacular.
        from . import openapi  # noqa: F401
