"""This service's Celery app (common.jobs.app): ``manage.py celery worker`` / ``beat`` (deploy/Procfile)."""

from common.jobs.app import celery_app

app = celery_app()
