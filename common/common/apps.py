from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Installs common's management commands and system checks in every service (no models of its own)."""

    name = "common"
    verbose_name = "ERP common"

    def ready(self):
        # Registers the OpenAPI description of JWTAuthentication with drf-spectacular,
        # and common's system checks (permissions named by views, the JWT key).
        from . import checks, openapi  # noqa: F401
