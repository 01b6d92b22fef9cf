"""scripts/previous_release.py: the previous release, materialised from git, runs its own ``common``."""

import subprocess

import pytest
from previous_release import PreviousReleaseUnavailable, prepare, previous_commit

MISSING = "0" * 40


def test_the_previous_release_runs_its_own_common_not_the_checkouts():
    # given the release deploy/PREVIOUS_RELEASE names
    release = prepare()
    # when its interpreter imports common with the release's environment
    probe = subprocess.run(
        [str(release.python), "-c", "import common, common.events.registry as r; print(r.__file__)"],
        env=release.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    # then it is the release's file, from the tree of that commit
    assert release.commit == previous_commit()
    assert probe.stdout.strip() == str(release.tree / "common" / "common" / "events" / "registry.py")


def test_a_release_missing_from_the_clone_fails_saying_how_to_fetch_it():
    # given a commit this clone does not have (a shallow clone's case)
    # when it is prepared / then the error says how to get the history, never a skip
    with pytest.raises(PreviousReleaseUnavailable, match="git fetch --unshallow"):
        prepare(MISSING)
