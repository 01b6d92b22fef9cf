"""``manage.py check_migration_safety``: the migrations added since the previous release, against the rules.

The rules are :mod:`common.migration_safety`'s (docs/upgrading.md explains them). A migration
is new when its file was not in the previous release (deploy/PREVIOUS_RELEASE, or ``--since``),
as git lists that commit's tree; migrations outside the repository (Django's own) are not ours
to check. Every finding not allowed by a reasoned entry of deploy/migration_exceptions.toml is
printed and the command exits 1; so is an entry that allows nothing any more. Needs the
repository with its history (a test and CI command, never an image's).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.loader import MigrationLoader

from common.migration_safety import migration_findings, previous_release


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


class Command(BaseCommand):
    help = "Check the migrations added since the previous release against the expand/contract rules."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="The previous release's commit (default: deploy/PREVIOUS_RELEASE).")

    def handle(self, *args, since: str | None = None, **options) -> None:
        root = Path(_git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
        since = since or previous_release(root)
        if subprocess.run(["git", "-C", str(root), "cat-file", "-e", f"{since}^{{commit}}"]).returncode != 0:
            raise CommandError(f"commit {since} is not in this clone: fetch the history (git fetch --unshallow)")
        released = set(_git(root, "ls-tree", "-r", "--name-only", since).splitlines())
        loader = MigrationLoader(None, ignore_no_migrations=True)

        def is_new(app_label: str, name: str) -> bool:
            path = Path(sys.modules[loader.graph.nodes[(app_label, name)].__module__].__file__).resolve()
            # Django's own migrations (in a virtualenv, maybe inside the checkout) are not ours to check.
            ours = path.is_relative_to(root) and "site-packages" not in path.parts
            return ours and str(path.relative_to(root)) not in released

        labels = {config.label for config in apps.get_app_configs()}
        allowed = tomllib.loads((root / "deploy" / "migration_exceptions.toml").read_text())["exceptions"]
        findings = migration_findings(loader, is_new=is_new)
        refused = [finding for finding in findings if finding.key not in allowed]
        for finding in findings:
            if finding.key in allowed:
                self.stdout.write(f"allowed {finding}\n  because {allowed[finding.key]}")
        stale = sorted(
            key
            for key in allowed
            if key.split(".", 1)[0] in labels and key not in {finding.key for finding in findings}
        )
        for finding in refused:
            self.stdout.write(f"REFUSED {finding}")
        for key in stale:
            self.stdout.write(f"STALE exception {key}: it allows nothing; remove it")
        if refused or stale:
            raise CommandError(f"{len(refused)} migration operation(s) break the rules (docs/upgrading.md)")
        self.stdout.write(f"{len(findings)} exception(s) used; every other new operation is safe")
