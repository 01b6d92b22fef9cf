"""gunicorn settings shared by every service in the local run and in the containers.

Chosen by measurement on the 2-core machine (README "Performance"): for the services,
``bench/service_workers.py`` found no setting clearly ahead within its ±30% noise, so
gthread with 2 workers x 4 threads stays: a thread waiting on another service or the
database does not block a whole worker, at the memory of two processes (4 sync workers
served the same load with 60% more memory). The gateway, which mostly waits on
upstreams, runs 8 threads per worker (``GUNICORN_THREADS=8``, from bench/gateway.sh).
Every value can be overridden from the environment.
"""

import os
import tempfile

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

# Every worker's metrics in each scrape: prometheus_client's multiprocess mode (common/metrics.py).
# Set before the app, and so prometheus_client, is loaded; a fresh folder per server start.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="erp-metrics-"
)


def on_starting(server):
    # A folder given from outside may hold the files of an earlier run: their counts are not ours.
    for leftover in os.scandir(os.environ["PROMETHEUS_MULTIPROC_DIR"]):
        if leftover.name.endswith(".db"):
            os.unlink(leftover.path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
