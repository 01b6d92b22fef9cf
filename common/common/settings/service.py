"""The settings of a service with a database and an admin: ``from common.settings.service import *``.

Everything in :mod:`common.settings.base`, plus the admin's single sign-on through the
identity provider (common.sso; docs/back-office.md): what every admin shares is set here,
by name. What depends on the service (its cookies, its OIDC client, ``SSO``) the service's
``config/settings.py`` assigns itself with the functions of :mod:`common.sso.conf`. The
gateway, which has no admin, imports :mod:`common.settings.base` instead.
"""

from common.sso.conf import (
    default_issuer,
    internal_provider_url,
    with_public_host,
    with_public_origin,
)

from .base import *  # noqa: F403 (the settings every process shares)
from .base import ALLOWED_HOSTS, BROKER_TRANSPORT_OPTIONS, BROKER_URL, CSRF_TRUSTED_ORIGINS, INSTALLED_APPS
from .env import env, env_int

# The admin's redirects and forms name the public address browsers use (ERP_PUBLIC_URL).
ALLOWED_HOSTS = with_public_host(ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = with_public_origin(CSRF_TRUSTED_ORIGINS)

AUTHENTICATION_BACKENDS = ["common.sso.backends.StaffOIDCBackend"]
# Absolute, with the script prefix put in front per request (common.sso.static): one process
# serves its admin at its own /admin/ and under the gateway's /admin/<service>/.
STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "common.sso.static.ScriptPrefixStaticFilesStorage"},
}
SESSION_COOKIE_AGE = env_int("SSO_SESSION_SECONDS", 12 * 3600)
# In the session: Django's cookie storage would set a "messages" cookie on "/", which the
# gateway does not pass on (each admin gets its own cookies only).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# mozilla-django-oidc: the admin is an OpenID Connect client of the provider (auth_svc by default).
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
# The browser is sent to the authorization endpoint; the service itself calls the other three.
OIDC_OP_AUTHORIZATION_ENDPOINT = env("SSO_AUTHORIZATION_ENDPOINT") or f"{default_issuer()}/authorize/"
OIDC_OP_TOKEN_ENDPOINT = env("SSO_TOKEN_ENDPOINT") or f"{internal_provider_url()}/token/"
OIDC_OP_USER_ENDPOINT = env("SSO_USERINFO_ENDPOINT") or f"{internal_provider_url()}/userinfo/"
OIDC_OP_JWKS_ENDPOINT = env("SSO_JWKS_ENDPOINT") or f"{internal_provider_url()}/.well-known/jwks.json"
OIDC_USE_PKCE = True
OIDC_STORE_ACCESS_TOKEN = True
# The code exchange is the slowest call of a sign-in: the provider checks the client secret with
# the password hasher (a quarter of a second of CPU on an idle host, several on a busy one). Below
# the gateway's upstream timeout (GATEWAY_UPSTREAM_TIMEOUT, 10 s), with room for the key set and
# userinfo calls after it: a provider too slow ends on the refusal page, not on the gateway's 504.
OIDC_TIMEOUT = 7
OIDC_CALLBACK_CLASS = "common.sso.views.StaffCallbackView"
LOGIN_REDIRECT_URL = "admin:index"
LOGIN_REDIRECT_URL_FAILURE = "sso-refused"

# Background jobs (common.jobs, docs/jobs.md): a Celery worker and one beat per service, on the
# broker the events use, the schedules in django-celery-beat's tables (the admin edits them).
# The service's queue and control exchange are named by common.jobs.app from SERVICE_NAME.
INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_beat", "common.jobs"]
CELERY_BROKER_URL = BROKER_URL
CELERY_BROKER_TRANSPORT_OPTIONS = BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# No job returns anything anybody reads: no result backend, and so no nightly clean-up of one.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = None
# A job is acknowledged once done: a worker killed mid-job leaves it queued for the next one
# (every job is safe to run twice: retention and checks trivially, a reset mail by its row).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A few messages ahead: a retry waiting for its countdown is held by the worker, and with a
# prefetch of 1 it would hold up the next job until the broker was asked again (seconds).
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
# One job at a time, in a thread of its own: the worker's loop goes on turning while a job runs,
# so its heartbeat file (the liveness probe), the broker's heartbeats and `celery inspect` keep
# going however long the job takes (the solo pool ran jobs in that loop). A thread, not a
# process: the prefork pool would add a child (about 60 MiB) per service (docs/jobs.md).
CELERY_WORKER_POOL = "threads"
CELERY_WORKER_CONCURRENCY = 1
# Beat writes each schedule's last run to the database as soon as it sends the job, so a beat
# that takes over from a dead one (common.jobs.beat_lock) never sends that run a second time.
CELERY_BEAT_SYNC_EVERY = 1
# The worker's remote-control queue (`celery inspect`) not exclusive to its connection, as Celery
# 5.7 makes it: a worker back within seconds of a network blip redeclares it while RabbitMQ still
# holds the old connection (until its heartbeat timeout), is refused (RESOURCE_LOCKED) and exits,
# its running job with it. The queue still goes 10 s after its last consumer (control_queue_expires).
CELERY_CONTROL_QUEUE_EXCLUSIVE = False
# Django's logging (JSON lines, common.logging) stays the process's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "common.jobs.beat:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE  # noqa: F405 (from .base)
JOBS = {
    "RETENTION_DAYS": env_int("ERP_RETENTION_DAYS", 14),
    "IDEMPOTENCY_HOURS": env_int("ERP_IDEMPOTENCY_HOURS", 24),
}
