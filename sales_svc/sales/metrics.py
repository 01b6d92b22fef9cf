"""Sales' own ``/metrics`` gauges (``ERP["METRICS_COLLECTORS"]``): orders waiting for inventory too long."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .selectors import sales_order_list_stuck_pending


class StuckOrdersCollector:
    """``erp_sales_orders_stuck_pending`` and the age of the oldest of them, read when scraped."""

    def collect(self):
        stuck = sales_order_list_stuck_pending()
        try:
            count = stuck.count()
            oldest = stuck.values_list("confirmed_at", flat=True).first()
        except Exception:  # the database is away: readiness says so; no figures is honest
            return
        threshold = settings.ERP["PENDING_STUCK_AFTER"]
        orders = GaugeMetricFamily(
            "erp_sales_orders_stuck_pending", f"orders waiting for inventory's answer for more than {threshold:g} s"
        )
        orders.add_metric([], float(count))
        yield orders
        age = GaugeMetricFamily(
            "erp_sales_orders_stuck_pending_oldest_age_seconds",
            "seconds since the oldest of them was confirmed (0: none stuck)",
        )
        age.add_metric([], 0.0 if oldest is None else round((timezone.now() - oldest).total_seconds(), 3))
        yield age
