from django.apps import AppConfig


class EventsConfig(AppConfig):
    """The event bus: outbox and inbox tables, relay and consumer commands."""

    name = "common.events"
    label = "events"
    verbose_name = "ERP events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the wiring checks)
