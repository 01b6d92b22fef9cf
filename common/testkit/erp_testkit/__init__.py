"""The test kit: fixtures and helpers for every suite, never a test case, never in an image.

- ``plugin``: the pytest plugin (a ``pytest11`` entry point): the session's key pair, role clients,
  ``staff_login``, the ``postgresql`` fixture;
- ``tokens`` (``auth_client``, ``issue_token``), ``admin`` (staff users, the admin walked against the
  role matrix), ``service_checks`` (what every service's ``test_platform.py`` asserts);
- ``events`` (deliver an event through the consumer's inbox path), ``broker``, ``faults`` (a TCP
  fault proxy, ``wait_until``), ``concurrency`` (paused workers for race tests), ``compat``,
  ``migrations`` (data-migration tests).

``auth_client`` and ``issue_token`` are imported on first use, so that ``erp_testkit.broker``
also serves suites that never configure Django (the platform tests in the repository's tests/).
"""

__all__ = ["auth_client", "issue_token"]


def __getattr__(name: str):
    if name in __all__:
        from . import tokens

        return getattr(tokens, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
