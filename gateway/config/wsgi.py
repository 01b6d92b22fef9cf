"""WSGI entry point of the gateway (gunicorn config.wsgi --config ../scripts/gunicorn.conf.py, GUNICORN_THREADS=8)."""

import os

from common.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
