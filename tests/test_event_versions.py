"""Events across a rolling upgrade: the previous release's still go in, and what this one sends is documented.

The previous release's registry (deploy/PREVIOUS_RELEASE, read by its own interpreter) is
compared with this checkout's. Each (type, version) it declared must still be declared with the
same fields, and each consumer must still subscribe to what it did, so that its producers'
messages, queued or published during the upgrade, are applied (tests/test_upgrade.py sends one
of each through this release's consumers). A version this release adds must be named in
docs/upgrading.md with its rollout order: the previous consumers dead-letter it.
"""

import re
import sys
from pathlib import Path

import pytest
from previous_release import PreviousRelease, PreviousReleaseUnavailable, event_registry, prepare

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def registries():
    try:
        previous = prepare()
    except PreviousReleaseUnavailable as error:
        pytest.fail(str(error))
    current = PreviousRelease(commit="HEAD", tree=ROOT, python=Path(sys.executable))
    return event_registry(previous), event_registry(current)


def declared(registry: dict) -> dict[tuple[str, int], tuple[str, dict]]:
    return {(name, version): (producer, fields) for name, version, producer, fields in registry["types"]}


def test_every_previous_event_version_is_still_declared_with_its_fields(registries):
    # given both releases' registries
    previous, current = (declared(r) for r in registries)
    # when the previous versions are looked up in this release / then each is there, unchanged
    assert {key: current.get(key) for key in previous} == previous


def test_every_previous_subscription_is_still_consumed(registries):
    # given what each consumer of the previous release subscribed to
    previous, current = registries
    # when this release's subscriptions are compared / then none was dropped
    missing = {
        consumer: [t for t in types if t not in current["subscriptions"].get(consumer, [])]
        for consumer, types in previous["subscriptions"].items()
    }
    assert missing == {consumer: [] for consumer in previous["subscriptions"]}


def test_every_new_event_version_has_its_rollout_in_the_upgrade_guide(registries):
    # given the versions this release declares and the previous one did not
    previous, current = (declared(r) for r in registries)
    new = sorted(f"{name}@v{version}" for name, version in current.keys() - previous.keys())
    # when docs/upgrading.md is read / then it names each, with the order to roll it out in
    guide = (ROOT / "docs" / "upgrading.md").read_text()
    assert [version for version in new if not re.search(rf"`{re.escape(version)}`", guide)] == []
