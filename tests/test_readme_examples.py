"""The README's short tour of the API and docs/api-tour.md, run exactly as written against the session's local run.

Every ```bash block of the README's "A short tour of the API" section, then every one of
docs/api-tour.md, in order, goes to one bash process (variables carry from block to block,
as in the shell the reader pastes them into). The one change is the gateway: each document
starts by setting ``GW=http://localhost:8000``, and that line points at this run's spare
port instead. ``ERP_DATA_DIR`` tells the password-reset step where this run's mail
folder is (a reader's ``make run`` uses ``.run/``, the block's default). bash runs
with ``-e -u``: an answer without the field a command extracts (``| field data.id``)
stops it, so an example that drifts from the API fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_SECTION = "## A short tour of the API"
TOUR = ROOT / "docs" / "api-tour.md"
GATEWAY_LINE = "GW=http://localhost:8000\n"
RUN_TIMEOUT = 300


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def documents() -> list[list[str]]:
    """Return the bash blocks of each tested document, as written: the README's tour, then docs/api-tour.md."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(README_SECTION) :]
    section = section[: section.index("\n## ", len(README_SECTION))]
    return [bash_blocks(section), bash_blocks(TOUR.read_text())]


def readme_examples() -> list[str]:
    """Return every tested bash block, in the order they run."""
    return [block for blocks in documents() for block in blocks]


@pytest.fixture(scope="module")
def walk(platform) -> subprocess.CompletedProcess:
    assert all(blocks and blocks[0].startswith(GATEWAY_LINE) for blocks in documents()), "each must start with GW"
    data_dir = platform["log"].parent
    script = "\n".join(readme_examples()).replace(GATEWAY_LINE, f"GW={platform['gateway']}\n")
    return subprocess.run(
        ["bash", "-e", "-u", "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "ERP_DATA_DIR": str(data_dir), "HOME": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def test_the_readme_examples_run_to_the_end(walk):
    assert walk.returncode == 0, f"stdout:\n{walk.stdout[-4000:]}\nstderr:\n{walk.stderr[-4000:]}"


def test_the_readme_walk_shows_the_workflow_in_order(walk):
    # then: stock up after the receive, down after the confirm, both paid, the cancel gives it back
    expected = [
        "logged in with the new password",
        "delete customer: 204",
        "conflict",
        "lamp on hand: 5",
        "conflict",
        "Received",
        "on hand after the receive: 10",
        "139.93",
        "Confirmed",
        "on hand after the confirm: 3",
        "sales order stock_status: issued",
        "sales order: Paid",
        "purchase order: Paid",
        "second sale stock_status: issued",
        "Cancelled",
        "on hand after the cancel: 3",
        "order is Cancelled, expected Draft",
    ]
    lines = walk.stdout.splitlines()
    position = 0
    for line in expected:
        assert line in lines[position:], f"{line!r} missing after line {position}:\n{walk.stdout[-4000:]}"
        position = lines.index(line, position) + 1


def test_every_answer_the_readme_shows_whole_is_a_success(walk):
    # given: the refusals it shows on purpose are printed as one field (error.type, a message)
    answers = [json.loads(line) for line in walk.stdout.splitlines() if line.startswith("{")]

    # then: a call that drifted from the API (a 400, 404 or 405) shows up here
    assert answers
    assert [answer for answer in answers if answer["status"] >= 400] == []


def test_the_readme_waits_for_events_by_polling_not_by_guessing():
    # given
    script = "\n".join(readme_examples())

    # then: every sleep is a bounded poll's pause (a loop that breaks once the answer shows the event)
    sleeps = [line for line in script.splitlines() if re.search(r"\bsleep\b", line)]
    assert sleeps and all("break" in line for line in sleeps), sleeps
