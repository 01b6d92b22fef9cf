"""Gauges of the integrity checks' last results, read from the database when ``/metrics`` is scraped.

The checks run in the Celery worker, which no scraper reaches; their results are rows
(:class:`.models.IntegrityCheck`), so any web replica reports the same figures.
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily


class IntegrityCollector:
    def collect(self):
        from .models import IntegrityCheck

        try:
            checks = list(IntegrityCheck.objects.values_list("command", "passed", "differences", "ran_at"))
        except Exception:  # the database is away: readiness says so; no figures is honest
            return
        failing = GaugeMetricFamily(
            "erp_integrity_check_failing", "1 if the last run of the check found a difference", labels=["check"]
        )
        found = GaugeMetricFamily(
            "erp_integrity_check_differences", "differences the last run of the check found", labels=["check"]
        )
        ran = GaugeMetricFamily(
            "erp_integrity_check_last_run_timestamp_seconds", "when the check last ran (Unix time)", labels=["check"]
        )
        for command, passed, differences, ran_at in checks:
            failing.add_metric([command], 0.0 if passed else 1.0)
            found.add_metric([command], float(differences))
            ran.add_metric([command], ran_at.timestamp())
        yield from (failing, found, ran)
