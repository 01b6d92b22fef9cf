"""Settings of purchase_svc: the shared ones from ``common.settings`` plus its own apps."""

from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        name="purchase",
        title="Purchase service",
        apps=[],
        base_dir=Path(__file__).resolve().parent.parent,
        events=True,
    )
)
