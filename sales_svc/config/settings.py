"""Settings of sales_svc: the shared ones from ``common.settings`` plus its own apps."""

from pathlib import Path

from common.settings import env, service_settings

globals().update(
    service_settings(
        name="sales",
        title="Sales service",
        apps=["sales"],
        base_dir=Path(__file__).resolve().parent.parent,
        events=True,
    )
)
# The services whose records orders reference (customers, items and stock).
ERP.update(  # noqa: F821 (defined by the update above)
    CONTACT_SERVICE_URL=env("CONTACT_SERVICE_URL", "http://127.0.0.1:8001"),
    INVENTORY_SERVICE_URL=env("INVENTORY_SERVICE_URL", "http://127.0.0.1:8003"),
)
ERP_EVENTS = {"CONSUMER": "sales", "HANDLERS": "sales.handlers.HANDLERS"}
