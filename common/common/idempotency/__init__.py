"""``Idempotency-Key`` support for POSTs (CONTRACT §2), as a Django app with one table."""
