"""This service's Celery app (common.jobs.app): ``celery -A config worker`` / ``beat`` (deploy/Procfile)."""

from common.jobs.app import celery_app

app = celery_app()
