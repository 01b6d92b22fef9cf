"""purchase_svc's own gauges in ``/metrics`` (``ERP["METRICS_COLLECTORS"]``, read when scraped)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from .models import PurchaseReceipt


class RefusedReceiptsCollector:
    """``erp_purchase_receipts_stock_refused``: receipts inventory stocked nothing of (an item it no longer has).

    Read from the receipts themselves, so every worker answers the same figure; an alert on
    it above 0 tells an operator to settle them (``GET /orders?stock_refused=true``).
    """

    def collect(self):
        try:
            refused = PurchaseReceipt.objects.filter(stock_refused_at__isnull=False).count()
        except Exception:  # the database is away: readiness says so; no figure is honest
            return
        gauge = GaugeMetricFamily(
            "erp_purchase_receipts_stock_refused", "purchase receipts inventory refused to stock (unknown items)"
        )
        gauge.add_metric([], float(refused))
        yield gauge
