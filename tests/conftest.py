"""Platform tests run from the repository's tests/ folder; they import no service.

The local runs, one per flavour and session (tests/platforms.py says which), are the fixtures
``embedded_platform``, ``postgres_platform``, ``replicated_platform``, and ``platform``, the
embedded one, for the tests that need no other (module-scoped handles on the session's
``platforms``, so that module-scoped fixtures may use them). A module that runs its tests on
several flavours names them in its ``platform`` fixture's params (test_workflow.py).
The tests are ordered so that the ones that need no platform come first (they run while the
first flavour starts; those marked ``between_platforms`` after the first flavour's, while it stops
and the next starts), then one flavour's tests together, in ``FLAVOURS``' order, a test marked
``first_on_platform`` first and one marked ``stops_platform`` last of its flavour's; the
flavours start one after the other in the background from the session's start on, and each
stops right after its last test.
"""

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from platforms import FLAVOURS, Platforms  # noqa: E402  (needs scripts/ on the path)

PLATFORMS = pytest.StashKey[Platforms]()
LAST_USERS = pytest.StashKey[dict[str, pytest.Item]]()


def flavours_of(item: pytest.Item) -> list[str]:
    """The platform flavours ``item`` runs against: fixtures it asks for, or its ``platform`` parameter."""
    wanted = [flavour for flavour in FLAVOURS if f"{flavour}_platform" in item.fixturenames]
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("platform") in FLAVOURS:
        wanted.append(callspec.params["platform"])
    return wanted


def group_index(item: pytest.Item) -> int:
    """``item``'s group: -1 for no platform, else its (last) flavour's place in ``FLAVOURS``."""
    return max((list(FLAVOURS).index(f) for f in flavours_of(item)), default=-1)


def run_order(item: pytest.Item) -> tuple[float, bool, bool]:
    """Where ``item`` runs: its group (no platform, then each flavour in ``FLAVOURS``' order), first of
    its group if it checks how its platform started (``first_on_platform``), last if it stops it.

    A test without a platform marked ``between_platforms`` runs after the first flavour's tests
    instead: while that platform stops and the next starts, which the next flavour's first test
    would otherwise only wait for.
    """
    group: float = group_index(item)
    if group == -1 and item.get_closest_marker("between_platforms") is not None:
        group = 0.5
    first, last = (item.get_closest_marker(name) is not None for name in ("first_on_platform", "stops_platform"))
    return group, not first, last


# The groups ``--flavours`` picks from: the tests without a platform, then the flavours'.
NO_PLATFORM = "none"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--flavours",
        default=",".join([NO_PLATFORM, *FLAVOURS]),
        help=f"comma-separated groups of tests to run: {NO_PLATFORM} (no platform) and flavours "
        f"({', '.join(FLAVOURS)}); default all. scripts/test.sh runs the embedded flavour's tests "
        "in a lane of their own, beside the others: that platform uses no PostgreSQL connection.",
    )


def group_name(item: pytest.Item) -> str:
    return [NO_PLATFORM, *FLAVOURS][group_index(item) + 1]


@pytest.hookimpl(trylast=True)  # after pytest grouped the tests of a module-scoped parameter
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = set(config.getoption("flavours").split(","))
    unknown = chosen - {NO_PLATFORM, *FLAVOURS}
    if unknown:
        raise pytest.UsageError(f"--flavours: no group {', '.join(sorted(unknown))}")
    left_out = [item for item in items if group_name(item) not in chosen]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if group_name(item) in chosen]
    items.sort(key=run_order)  # a stable sort: within a group, pytest's order is kept


def pytest_collection_finish(session: pytest.Session) -> None:
    # dict order: the order of each flavour's first test, the order Platforms.prepare starts them in
    session.config.stash[LAST_USERS] = {flavour: item for item in session.items for flavour in flavours_of(item)}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item):
    yield
    platforms = item.config.stash.get(PLATFORMS, None)
    if platforms is not None:
        for flavour, last in item.config.stash[LAST_USERS].items():
            if last is item:
                platforms.stop(flavour)


# A failed test's report ends with the last warnings and errors of the local runs it used: in CI
# that is all there is to read of them (the data dirs go with the machine).
LOG_LEVELS = re.compile(r'"level": "(WARNING|ERROR|CRITICAL)"|\[(WARNING|ERROR|CRITICAL)\]|Traceback')
LOG_LINES_SHOWN = 40


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed:
        logs = {}  # one section per local run, however many fixtures hand it on (``platform`` and its flavour's)
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, dict) and isinstance(value.get("log"), Path) and value["log"].exists():
                logs.setdefault(value["log"], name)
        for path, name in logs.items():
            with path.open(errors="replace") as log:
                lines = [line.rstrip() for line in log if LOG_LEVELS.search(line)]
            report.sections.append((f"{name}: its last warnings and errors", "\n".join(lines[-LOG_LINES_SHOWN:])))
    return report


# autouse: the flavours start at the session's first test, so the first is up while the tests without one run.
@pytest.fixture(scope="session", autouse=True)
def platforms(request, tmp_path_factory):
    running = Platforms(tmp_path_factory.mktemp)
    request.config.stash[PLATFORMS] = running
    running.prepare(request.config.stash[LAST_USERS])
    yield running
    running.stop_all()


@pytest.fixture(scope="module")
def embedded_platform(platforms):
    return platforms.get("embedded")


@pytest.fixture(scope="module")
def postgres_platform(platforms):
    return platforms.get("postgres")


@pytest.fixture(scope="module")
def replicated_platform(platforms):
    return platforms.get("replicated")


@pytest.fixture(scope="module")
def platform(embedded_platform):
    """The README's default local run, shared by every test that needs no other flavour."""
    return embedded_platform


# ---------------------------------------------------------------- the back office in a browser
# Debian's Chromium driven by Playwright (never a browser download): test_back_office.py and
# test_back_office_home.py. Screenshots of their steps go to <ERP_DATA_DIR>/screenshots/back-office/.

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium package (apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots():
    folder = Path(os.environ.get("ERP_DATA_DIR") or Path(__file__).resolve().parent.parent / ".run") / "screenshots"
    folder = folder / "back-office"
    folder.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shot


@pytest.fixture
def new_page(browser):
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1600, "height": 900})
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
