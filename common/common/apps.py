from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Installs common's commands, system checks and database hooks in every service (no models of its own)."""

    name = "common"
    verbose_name = "ERP common"

    def ready(self):
        from django.db.backends.signals import connection_created

        # Registers the OpenAPI description of JWTAuthentication with drf-spectacular,
        # and common's system checks (permissions named by views, the JWT key).
        from . import checks, openapi  # noqa: F401
        from .prepared_statements import install

        # Statements a migration made stale are planned again (common.prepared_statements).
        connection_created.connect(install, dispatch_uid="common.prepared_statements")
