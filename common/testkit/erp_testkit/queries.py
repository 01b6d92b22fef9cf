"""What a test pinning a query count compares: the statements a block ran, one word each.

    with CaptureQueriesContext(connection) as paying:
        post(as_fm, order, "pay")
    assert statements(paying) == ["SELECT", "UPDATE", "INSERT", "INSERT", "SELECT"]

Savepoints are left out: how many a path opens says how it nests its atomic blocks, not what it
asks the database, and the consumer's own (an event's, with its inbox row) would be in every list.
"""

from __future__ import annotations

from django.test.utils import CaptureQueriesContext


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The first word of each statement ``captured`` holds (SELECT, INSERT...), in order, savepoints left out."""
    return [query["sql"].split()[0] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]
