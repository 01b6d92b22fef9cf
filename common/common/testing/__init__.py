"""Test helpers shared by every suite: tokens and clients (``tokens``), broker look-ups (``broker``),
the session's key pair and the ``postgresql`` fixture (``plugin``, loaded by each suite's pytest.ini).

``auth_client`` and ``issue_token`` are imported on first use, so that ``common.testing.broker``
also serves suites that never configure Django (the platform tests in the repository's tests/).
"""

__all__ = ["auth_client", "issue_token"]


def __getattr__(name: str):
    if name in __all__:
        from . import tokens

        return getattr(tokens, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
