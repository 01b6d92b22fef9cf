"""Background jobs on Celery: the app factory, retention, integrity checks, beat and its defaults.

Each service with jobs has a ``config/celery.py`` (``app = celery_app()``: :mod:`.app`),
its Django settings as the configuration (``CELERY_*``, common.settings.service) and the
broker its events use. Tasks are thin: each calls one function of :mod:`.retention`,
:mod:`.integrity` or the service's own ``services.py``. What runs when is a row of
django-celery-beat's tables, editable in the admin; ``manage.py beat_schedule_install``
adds the defaults of the service's ``config/schedule.py`` that are missing (docs/jobs.md).
The domain events stay on the kombu relay and consumers (common.events): they carry other
services' JSON, not Celery tasks.
"""
