"""Every migration added since the previous release keeps to the expand/contract rules (docs/upgrading.md).

Runs ``manage.py check_migration_safety`` in each service with a database: a new migration that
adds a NOT NULL column without a default, rewrites or locks a table in use, builds an index
without CONCURRENTLY or has a RunPython without reverse fails here, unless
deploy/migration_exceptions.toml allows that operation with a reason.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from run import SERVICES

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("service", [s for s in SERVICES if s.database], ids=lambda s: s.folder)
def test_new_migrations_keep_to_the_expand_contract_rules(service, tmp_path):
    # given the service's migrations and the previous release's (deploy/PREVIOUS_RELEASE)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ERP_POSTGRES_URL")}
    env |= {"DJANGO_DEBUG": "1", "ERP_DATA_DIR": str(tmp_path)}
    # when the new ones are checked
    result = subprocess.run(
        [sys.executable, "manage.py", "check_migration_safety"],
        cwd=ROOT / service.folder,
        env=env,
        capture_output=True,
        text=True,
    )
    # then none breaks a rule that no reasoned exception allows
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every other new operation is safe" in result.stdout
