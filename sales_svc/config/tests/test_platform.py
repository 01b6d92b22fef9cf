"""The checks every service passes (health, schema, docs, envelope 404, request id)."""

from common.testing.service_suite import *  # noqa: F403
