"""The modules common's packages name in their docstrings exist: a reader who follows one lands somewhere."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import common
import erp_testkit
import order_documents

PACKAGES = (common, order_documents, erp_testkit)
# ``:mod:`common.settings.service``` (with or without Sphinx's ``~``), naming one of the packages above.
MODULE_REFERENCE = re.compile(r":mod:`~?((?:common|order_documents|erp_testkit)(?:\.\w+)*)`")


def test_every_module_a_docstring_names_exists():
    # given every module reference in the packages' source
    named = {
        (path.relative_to(Path(package.__file__).parent.parent).as_posix(), module)
        for package in PACKAGES
        for path in Path(package.__file__).parent.rglob("*.py")
        for module in MODULE_REFERENCE.findall(path.read_text())
    }

    # then each names an importable module
    assert len(named) >= 10
    assert sorted((path, module) for path, module in named if importlib.util.find_spec(module) is None) == []
