"""The documentation holds together and docs/contract.md stays true to the code (issue 18).

Offline and quick: the README stays a front door (at most 300 lines); every relative link
and anchor of the Markdown files resolves; every ``contract §N`` the code cites is a section
of docs/contract.md; the contract's role matrix is ``common.roles.PERMISSIONS`` and its event
table is ``common.events.registry``, so neither can drift from the data the code runs on;
and nothing in the repository reads the brief's folder beside it any more.
"""

from __future__ import annotations

import ast
import re
import subprocess
import typing
from dataclasses import fields
from pathlib import Path

import pytest

from common.events import registry
from common.roles import FINANCE_MANAGER, INVENTORY_MANAGER, PERMISSIONS

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "docs" / "contract.md"
README_MAX_LINES = 300

# [text](target) and ![alt](target), outside code; a target with a scheme is not ours to check.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CITATION = re.compile(r"contract\W{0,3}((?:§\d+(?:\s*(?:,|/|and)\s*)?)+)", re.IGNORECASE)


def markdown_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True)
    return sorted({ROOT / name for name in listed.stdout.split()} | set((ROOT / "docs").glob("*.md")))


def prose(path: Path) -> str:
    """Return the file without its fenced code blocks (a link in code is text, not a link)."""
    return re.sub(r"^```.*?^```$", "", path.read_text(), flags=re.DOTALL | re.MULTILINE)


def anchors(path: Path) -> set[str]:
    """Return the anchors GitHub makes of the file's headings (lower case, punctuation dropped, -1 for a repeat)."""
    slugs, repeats = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", prose(path), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        repeats[slug] = repeats.get(slug, -1) + 1
        slugs.add(f"{slug}-{repeats[slug]}" if repeats[slug] else slug)
    return slugs


def test_the_readme_is_a_front_door_of_at_most_300_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_MAX_LINES


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path):
    broken = []
    for target in LINK.findall(prose(path)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in anchors(linked):
            broken.append(f"{target}: no such heading in {linked.relative_to(ROOT)}")
    assert broken == []


def contract_sections() -> set[int]:
    return {int(number) for number in re.findall(r"^## (\d+)\. ", CONTRACT.read_text(), flags=re.MULTILINE)}


def test_the_contract_keeps_its_seven_sections():
    assert contract_sections() == set(range(1, 8))


def _assigned_calls(path: Path) -> dict[str, str]:
    """Return ``NAME = Class(...)`` module-level assignments of ``path`` as ``{NAME: "Class"}``."""
    return {
        node.targets[0].id: node.value.func.id
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
    }


def _exception_statuses() -> dict[str, int]:
    """Return the HTTP status each domain exception of common.exceptions declares (``status.HTTP_502_...``)."""
    statuses = {}
    for node in ast.parse((ROOT / "common" / "common" / "exceptions.py").read_text()).body:
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and ast.unparse(statement.targets[0]) == "status_code":
                    statuses[node.name] = int(re.search(r"\d{3}", ast.unparse(statement.value)).group())
    return statuses


def test_the_contract_gives_the_gateways_statuses_for_a_failing_upstream():
    # given the answers the gateway gives for each way an upstream fails (gateway/proxy/proxy.py)
    answers = _assigned_calls(ROOT / "gateway" / "proxy" / "proxy.py")
    status = _exception_statuses()
    unreachable, not_accepting, slow = (
        status[answers[name]] for name in ("UPSTREAM_UNREACHABLE", "UPSTREAM_NOT_ACCEPTING", "UPSTREAM_SLOW")
    )

    # then §4 says the same
    section = " ".join(contract_section(4).split())
    assert f"refuses or drops the connection, or answers nonsense, is a {unreachable}" in section
    assert f"accepts no connection in time a {not_accepting}" in section
    assert f"too slow to answer a {slow}" in section


def test_every_contract_section_the_code_cites_exists():
    # given every tracked source file but the contract itself
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    sources = [ROOT / name for name in listed.stdout.split() if name.endswith((".py", ".md", ".yaml", ".sh"))]

    # when
    cited = {
        (str(source.relative_to(ROOT)), int(number))
        for source in sources
        if source != CONTRACT and source.is_file()
        for match in CITATION.finditer(source.read_text())
        for number in re.findall(r"§(\d+)", match.group(1))
    }

    # then
    assert cited
    assert {(name, number) for name, number in cited if number not in contract_sections()} == set()


def contract_section(number: int) -> str:
    text = CONTRACT.read_text()
    start = re.search(rf"^## {number}\. .*$", text, flags=re.MULTILINE).end()
    following = re.search(r"^## \d+\. ", text[start:], flags=re.MULTILINE)
    return text[start : start + following.start()] if following else text[start:]


def table_rows(section: str, header_start: str) -> list[list[str]]:
    """Return the cells of the rows of the table whose header starts with ``header_start``."""
    lines = section.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_contracts_role_matrix_is_the_one_the_code_enforces():
    # given the matrix of §3: permissions, then IM's and FM's yes or no
    rows = table_rows(contract_section(3), "| operation | permission |")

    # when
    documented: dict[str, tuple[bool, bool]] = {}
    for _, permissions, im, fm in rows:
        for permission in re.findall(r"`([a-z._]+)`", permissions):
            documented[permission] = (im.startswith("yes"), fm.startswith("yes"))

    # then: every permission of common.roles, each held by exactly the roles it names
    enforced = {name: (INVENTORY_MANAGER in roles, FINANCE_MANAGER in roles) for name, roles in PERMISSIONS.items()}
    assert documented == enforced


def field_names(shape: str) -> dict[str, set[str] | None]:
    """``{order_id, items: [{item_id, quantity}]}`` -> ``{"order_id": None, "items": {"item_id", "quantity"}}``."""
    inner = shape.strip()[1:-1]
    names: dict[str, set[str] | None] = {}
    for part in re.split(r",\s*(?![^\[]*\])", inner):
        name, _, nested = part.partition(":")
        names[name.strip()] = set(field_names(nested.strip()[1:-1])) if nested.strip() not in ("", "[...]") else None
    return names


def declared_names(data: type) -> dict[str, set[str] | None]:
    """The data class's fields, and those of the lines a tuple field holds."""
    hints = typing.get_type_hints(data)
    names: dict[str, set[str] | None] = {}
    for field in fields(data):
        args = typing.get_args(hints[field.name])
        names[field.name] = {line.name for line in fields(args[0])} if args else None
    return names


def test_the_contracts_event_table_is_the_registry():
    # given the table of §6: event (a name, or a name and its sibling suffixes), producer, data, consumers
    rows = table_rows(contract_section(6), "| event | producer |")

    documented = {}
    for event, producer, data, consumers in rows:
        first, *suffixes = re.findall(r"`([a-z._]+)`", event)
        base = first.rsplit(".", 1)[0]
        shape = re.search(r"`(\{.*?\})`", data).group(1)
        consumer = None if consumers.startswith("none") else consumers.split(":", 1)[0]
        for name in [first, *(base + suffix for suffix in suffixes)]:
            documented[name] = (producer, field_names(shape), consumer)

    # then: the same types, each with its producer, the fields of its data and its one consumer
    subscribed = {event.name: service for service, events in registry.SUBSCRIPTIONS.items() for event in events}
    declared = {
        event.name: (event.producer, declared_names(event.data), subscribed.get(event.name)) for event in registry.ALL
    }
    assert documented == declared


def test_nothing_in_the_repository_reads_the_briefs_folder():
    # the brief's own files sat beside the repository; the contract and the collection now live in it
    outside = "/".join(["..", "shared"]), "/".join(["", "work", "shared"])
    patterns = [argument for path in outside for argument in ("-e", path)]
    found = subprocess.run(
        ["git", "grep", "--untracked", "-l", "-F", *patterns], cwd=ROOT, capture_output=True, text=True
    )
    assert found.stdout.split() == []


def test_the_gateways_rate_limit_and_metrics_settings_are_documented():
    settings_text = (ROOT / "gateway" / "config" / "settings.py").read_text()
    read = set(re.findall(r'"(GATEWAY_RATE_LIMIT_\w+)"', settings_text)) | {"ERP_METRICS_BIND"}
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    contract = (ROOT / "docs" / "contract.md").read_text()

    assert len(read) == 6
    assert all(f"`{name}`" in configuration for name in read), read
    assert "ERP_METRICS_BIND" in contract and "GATEWAY_RATE_LIMIT_USER_RATE" in contract
