"""Settings of purchase_svc: the shared ones from ``common.settings`` plus its own apps."""

from pathlib import Path

from common.settings import env, service_settings

globals().update(
    service_settings(
        name="purchase",
        title="Purchase service",
        apps=["purchasing"],
        base_dir=Path(__file__).resolve().parent.parent,
        events=True,
    )
)
# The services whose records orders reference (vendors and items).
ERP.update(  # noqa: F821 (defined by the update above)
    CONTACT_SERVICE_URL=env("CONTACT_SERVICE_URL", "http://127.0.0.1:8001"),
    INVENTORY_SERVICE_URL=env("INVENTORY_SERVICE_URL", "http://127.0.0.1:8003"),
)
ERP_EVENTS = {"CONSUMER": "purchase", "HANDLERS": "purchasing.handlers.HANDLERS"}
