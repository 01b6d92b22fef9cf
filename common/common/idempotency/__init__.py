"""``Idempotency-Key`` support for POSTs (contract §2), as a Django app with one table."""

# Here, not in the middleware: common.openapi documents the header without importing the app's models.
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
