"""The purchase_svc Django project."""

# The Celery app is made with the project, so that ``shared_task`` jobs, the admin's schedule pages
# and anything that sends a job use this service's app (Celery's Django layout).
from .celery import app as celery_app

__all__ = ["celery_app"]
