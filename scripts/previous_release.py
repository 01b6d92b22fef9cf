"""The previous release, ready to run beside this checkout: its source tree and the Python that runs it.

deploy/PREVIOUS_RELEASE names the release an install upgrades from (a commit of this
repository). ``prepare()`` materialises that commit with ``git archive`` under
``.venv-previous/<commit>/src`` (once; a cache keyed by the commit) and returns how to run it:

- its ``common`` package wins over the checkout's: the checkout's ``.venv`` has the *current*
  ``common`` installed editable, so the old release's processes get its own ``common/`` first on
  ``PYTHONPATH`` (an editable install's finder comes after ``sys.path``), which ``prepare``
  verifies by asking the interpreter where it imports ``common`` from;
- the interpreter is this ``.venv``'s while every pin of the old ``requirements/base.txt`` is
  installed here at that version (a release that only adds packages runs as it is); once a pin
  differs, a venv of its own under ``.venv-previous/<commit>/venv`` is built once with the old pins.

A commit missing from the clone (a shallow clone) is an error that says how to fix it, never a
reason to skip the upgrade test. ``python scripts/previous_release.py`` prints the tree and interpreter.
"""

from __future__ import annotations

import compileall
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE_FILE = ROOT / "deploy" / "PREVIOUS_RELEASE"
CACHE = ROOT / ".venv-previous"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


class PreviousReleaseUnavailable(RuntimeError):
    """The previous release cannot be materialised here; the message says how to fix it."""


@dataclass(frozen=True)
class PreviousRelease:
    commit: str
    tree: Path  # its source, as ``git archive`` gives it
    python: Path  # the interpreter that runs its processes

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Return ``base`` (default: os.environ) with the old ``common`` first on the path."""
        env = dict(os.environ if base is None else base)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.tree / "common"), env.get("PYTHONPATH")]))
        return env


def previous_commit() -> str:
    """Return the commit deploy/PREVIOUS_RELEASE names, in full."""
    from common.migration_safety import previous_release

    commit = previous_release(ROOT)
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise PreviousReleaseUnavailable(f"{RELEASE_FILE} must name a full 40-digit commit, got {commit!r}")
    return commit


def _git(*args: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], stdout=stdout, stderr=subprocess.PIPE, check=False)


def _require_commit(commit: str) -> None:
    if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise PreviousReleaseUnavailable(
            f"the previous release {commit} (deploy/PREVIOUS_RELEASE) is not in this clone of {ROOT}: the upgrade "
            "test needs the repository's history. Fetch it (`git fetch --unshallow`, or `git fetch origin "
            f"{commit}`), or clone without --depth; if the release was rewritten away, move "
            "deploy/PREVIOUS_RELEASE to the commit of the release installs run now."
        )


def _materialise(commit: str, tree: Path) -> None:
    if tree.is_dir():
        return
    archive = _git("archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise PreviousReleaseUnavailable(f"git archive {commit} failed: {archive.stderr.decode().strip()}")
    # A folder per call, not per process: the platform's start thread and a test may prepare at once.
    partial = Path(tempfile.mkdtemp(prefix=f"{tree.name}.partial-", dir=tree.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(partial, filter="tar")
        # Its bytecode, once, under the path it is renamed to: with PYTHONDONTWRITEBYTECODE set, each of its
        # processes would compile it again.
        compileall.compile_dir(partial, quiet=2, workers=0, stripdir=str(partial), prependdir=str(tree))
        try:
            partial.rename(tree)  # whole or not at all: an interrupted run leaves only a .partial folder
        except OSError:
            if not tree.is_dir():
                raise  # else another call got there first, with the same commit's tree
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[metadata.Prepared.normalize(match.group(1))] = match.group(2)
    return pins


def _installed_here(pins: dict[str, str]) -> bool:
    """Whether this interpreter has every pin at exactly its version."""
    for name, version in pins.items():
        try:
            if metadata.version(name) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def _own_venv(folder: Path, requirements: Path) -> Path:
    python = folder / "bin" / "python"
    done = folder / ".installed"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        venv.create(folder, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True)
        done.write_text(requirements.read_text())
    return python


def _check_common_is_old(release: PreviousRelease) -> None:
    probe = subprocess.run(
        [str(release.python), "-c", "import common; print(common.__file__)"],
        env=release.env(),
        capture_output=True,
        text=True,
        cwd=release.tree,
    )
    imported = probe.stdout.strip()
    if probe.returncode != 0 or not Path(imported).is_relative_to(release.tree):
        raise PreviousReleaseUnavailable(
            f"the previous release's processes would import common from {imported or probe.stderr.strip()!r}, "
            f"not from {release.tree / 'common'}"
        )


# What a release's event registry declares: every (type, version) with its producer and data fields,
# and the (type, version) pairs each consumer subscribes to. Run by the release's own interpreter.
REGISTRY_PROBE = """
import dataclasses, json
from common.events import registry

def fields(data):
    return {f.name: str(f.type) for f in dataclasses.fields(data)}

print(json.dumps({
    "types": [[t.name, t.version, t.producer, fields(t.data)] for t in registry.ALL],
    "subscriptions": {c: [[t.name, t.version] for t in types] for c, types in registry.SUBSCRIPTIONS.items()},
}))
"""


def event_registry(release: PreviousRelease) -> dict:
    """Return the release's event registry: ``types`` ([name, version, producer, {field: type}]) and
    ``subscriptions`` ({consumer: [[name, version], ...]})."""
    probe = subprocess.run(
        [str(release.python), "-c", REGISTRY_PROBE], env=release.env(), capture_output=True, text=True, check=True
    )
    return json.loads(probe.stdout)


def prepare(commit: str | None = None) -> PreviousRelease:
    """Materialise the previous release (cached under .venv-previous/<commit>) and return how to run it."""
    commit = commit or previous_commit()
    _require_commit(commit)
    folder = CACHE / commit
    folder.mkdir(parents=True, exist_ok=True)
    tree = folder / "src"
    _materialise(commit, tree)
    requirements = tree / "requirements" / "base.txt"
    pins = _pins(requirements)
    python = Path(sys.executable) if _installed_here(pins) else _own_venv(folder / "venv", requirements)
    release = PreviousRelease(commit=commit, tree=tree, python=python)
    _check_common_is_old(release)
    return release


if __name__ == "__main__":
    try:
        found = prepare()
    except PreviousReleaseUnavailable as error:
        sys.exit(str(error))
    print(f"previous release {found.commit}\n  tree    {found.tree}\n  python  {found.python}")
