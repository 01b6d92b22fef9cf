"""gunicorn settings shared by every service in the local run and in the containers.

Chosen by measurement on the 2-core machine (docs/performance.md): for the services,
``bench/service_workers.py`` found no setting clearly ahead within its ±30% noise, so
gthread with 2 workers x 4 threads stays: a thread waiting on another service or the
database does not block a whole worker, at the memory of two processes (4 sync workers
served the same load with 60% more memory). The local run (scripts/run.py) runs one
worker of 8 threads per server instead, to stay within its memory budget.

The gateway, which faces clients, runs the gevent worker (``GUNICORN_WORKER_CLASS=gevent``
from scripts/run.py and compose.yaml): a client that trickles its request holds a cheap
greenlet instead of one of a few threads (``bench/slow_clients.py``). It has no database.
The services keep gthread: under gevent Django opens a database connection per greenlet
(up to ``worker_connections`` per worker) and psycopg waits must be made green; they need
not be, because clients reach them only through the gateway, which reads every request
whole before it forwards it, and their ports are bound to loopback.
Every value can be overridden from the environment.
"""

import os
import shutil
import tempfile

from common import server_errors

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Concurrent connections per gevent worker (gunicorn's default); unused by gthread.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Below the 15 s that the local run, compose (stop_grace_period) and Kubernetes
# (terminationGracePeriodSeconds) give a process before they kill it.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle a worker after this many requests (0: never), jittered so they do not all restart at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "0"))
# A bounded database pool per worker process (common.settings.env.database_pool_options):
# connections stay at workers x ERP_DB_POOL_MAX_SIZE per server, whatever the threads do.
os.environ.setdefault("ERP_DB_POOL", "1")
# gunicorn's access log stays off: common.access_log writes one JSON line per request, with
# the request id and the user that only Django knows.
accesslog = None
errorlog = "-"
# Load the app before forking: workers share its memory pages. Not with gevent: its worker
# monkey-patches (socket, ssl, threading) before it loads the app, so urllib3, requests and
# every lock are created green; a preloaded app would hold real locks and sockets that block
# the whole worker, and patching in the master would patch the arbiter too. Nor with one
# worker (the local run's): there is nothing to share, and the master would keep a second copy
# of every page the worker writes to (about 20 MiB per server, docs/performance.md).
preload_app = workers > 1 and not worker_class.startswith("gevent")
# gunicorn's control socket defaults to one path per user: six servers would fight over it.
control_socket_disable = True
# A request gunicorn cannot parse (request line, headers, limits) is refused in the error envelope,
# not with gunicorn's HTML page (common.server_errors; it imports nothing of Django until it writes).
server_errors.install()

# Every worker's metrics in each scrape: prometheus_client's multiprocess mode (common/metrics.py).
# Set before the app, and so prometheus_client, is loaded; a fresh folder per server start, removed
# when it stops (``on_exit``; a folder given from outside is its owner's to remove).
_metrics_dir_made = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics_dir_made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="erp-metrics-")


def on_starting(server):
    # A folder given from outside may hold the files of an earlier run: their counts are not ours.
    for leftover in os.scandir(os.environ["PROMETHEUS_MULTIPROC_DIR"]):
        if leftover.name.endswith(".db"):
            os.unlink(leftover.path)


def on_exit(server):
    if _metrics_dir_made:
        shutil.rmtree(_metrics_dir_made, ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# The gateway's metrics listener (host:port; gateway/proxy/metrics.py): the master answers every
# scrape with all workers' values summed, on an address apart from the published one. The services
# leave it unset: they answer /metrics on their own port.
_metrics_bind = os.environ.get("ERP_METRICS_BIND", "")


def when_ready(server):
    bind = _metrics_bind
    if not bind:
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    host, _, port = bind.rpartition(":")
    start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    server.log.info("metrics on http://%s/metrics", bind)
