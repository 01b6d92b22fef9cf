"""gunicorn settings shared by every service in the local run and in the containers.

Worker class and counts come from bench/ measurements on a 2-core machine (see
README "Performance"); each can be overridden from the environment.
"""

import os

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 5
# Access logs stay off: every service already logs requests as JSON with their request id.
accesslog = None
errorlog = "-"
# Load the app before forking: workers share its memory pages.
preload_app = True
# gunicorn's control socket defaults to one path per user: six servers would fight over it.
control_socket_disable = True
