"""The infrastructure every ERP service uses the same way: settings helpers, authentication and
roles, the envelope and its errors, filters, pagination, health, metrics, logs, request ids,
the event bus, the service-to-service HTTP client, idempotency.

Imported by every service, never run on its own. No domain code lives here: the order
mechanics sales and purchase share are the ``order_documents`` package beside it, the test
kit is the ``erp_testkit`` distribution (common/testkit), never installed in an image.
"""
