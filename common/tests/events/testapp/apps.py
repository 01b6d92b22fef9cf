from django.apps import AppConfig


class EventsTestAppConfig(AppConfig):
    name = "tests.events.testapp"
    label = "events_testapp"
    default_auto_field = "django.db.models.BigAutoField"
