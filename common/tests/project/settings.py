"""A minimal service used to test ``common`` on its own."""

from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        name="commontest",
        title="common test project",
        apps=["tests.project", "tests.events.testapp"],
        base_dir=Path(__file__).resolve().parent,
        events=True,
    )
)
ROOT_URLCONF = "tests.project.urls"
