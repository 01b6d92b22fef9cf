"""WSGI entry point of contact_svc (gunicorn config.wsgi)."""

import os

from common.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
