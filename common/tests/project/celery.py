"""The test project's Celery app, as a service's ``config/celery.py`` (``manage.py celery`` finds it here)."""

from common.jobs.app import celery_app

app = celery_app()
