"""Settings of inventory_svc: the shared ones from ``common.settings`` plus its own apps."""

from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        name="inventory",
        title="Inventory service",
        apps=["inventory"],
        base_dir=Path(__file__).resolve().parent.parent,
        events=True,
    )
)

# Stock is moved by the sales and purchase events (inventory.handlers).
ERP_EVENTS = {"CONSUMER": "inventory", "HANDLERS": "inventory.handlers.HANDLERS"}
