"""Settings of inventory_svc: the shared ones from ``common.settings`` plus its own apps."""

from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        name="inventory",
        title="Inventory service",
        apps=[],
        base_dir=Path(__file__).resolve().parent.parent,
        events=True,
    )
)
