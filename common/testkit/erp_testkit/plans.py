"""Which index serves a list endpoint's filter or ordering: the plans of the queries it runs, on PostgreSQL.

A list's first page stays fast however large its table grows only if an index finds its rows and
gives them in the asked order: the table is neither read whole nor sorted whole. Each service's tests
name the filters and orderings its API offers and the index serving each (bench/scale.py measures
them at the issue's scale, docs/performance.md "Data at scale").

A test has a few rows, where reading the table is cheapest whatever its indexes, so the plans are
asked with sequential scans and sorts priced out (``enable_seqscan``, ``enable_sort`` off): the
planner then takes an index wherever one can serve, and the plan shows a scan or a sort only where
none can. An index removed is a plan without its name, a test that fails.
"""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

# A plan node sorting every row it is given, not an incremental sort of rows already in index order.
FULL_SORT = re.compile(r"(^|->)\s*Sort\s+\(", re.MULTILINE)


def request_plans(client, path: str, *, analyze: bool = False) -> list[str]:
    """GET ``path`` with ``client``; return the plan of each SELECT it ran, scans and sorts priced out.

    ``analyze``: the plans the planner picks itself, run (EXPLAIN ANALYZE), as bench/scale.py shows
    them at scale, where the rows, not the pricing, decide.
    """
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        if not analyze:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
        for query in queries.captured_queries:
            if query["sql"].startswith("SELECT"):
                cursor.execute(f"EXPLAIN {'(ANALYZE) ' if analyze else ''}{query['sql']}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def assert_index_serves(client, path: str, indexes: str | tuple[str, ...], table: str) -> None:
    """Assert that ``indexes`` serve GET ``path``: each named in its plans, no query reading ``table`` whole
    or sorting rows (an incremental sort of rows an index gives in order of their first key is no full sort)."""
    plans = request_plans(client, path)
    shown = "\n\n".join(plans)
    for index in (indexes,) if isinstance(indexes, str) else indexes:
        assert index in shown, f"{path}: {index} unused\n{shown}"
    assert f"Seq Scan on {table}" not in shown, f"{path}: {table} read whole\n{shown}"
    assert not FULL_SORT.search(shown), f"{path}: rows sorted, not read in an index's order\n{shown}"


def assert_every_parameter_listed(filterset, ordering_fields, served_by, unindexed) -> None:
    """Assert that a list's ``served_by`` queries and ``unindexed`` reasons name every parameter it offers, no other:
    a new filter or ordering without an index, or a reason for none, fails."""
    listed = {parameter(query) for query in served_by if query} | set(unindexed)
    assert listed == offered_parameters(filterset, ordering_fields)


def offered_parameters(filterset, ordering_fields) -> set[str]:
    """What a list offers: its filters' parameters, ``search``, and ``ordering=`` each field both ways."""
    orderings = {f"ordering={sign}{field}" for field in ordering_fields for sign in ("", "-")}
    return set(filterset.base_filters) | {"search"} | orderings


def parameter(query: str) -> str:
    """The parameter a test's query string is about: ``ordering=-name`` as it is, ``sku=AB-1`` as ``sku``."""
    return query if query.startswith("ordering=") else query.split("=")[0]
