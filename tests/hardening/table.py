"""A pytest plugin that prints the hardening table (issue 12) after the run.

Loaded by `scripts/hardening` (`-p tests.hardening.table`). Tests that try
many cases report their own counts through the `tally` fixture (JSON lines in
AWSV_HARDENING_REPORT); other tests count one case each, under the row their
file maps to in FILE_ROWS. The table says what was tried, what held, and what
failed, and names the failures.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest

#: Rows for tests that do not keep a tally: one case per test. A key is a file, or a
#: file and a test name (`path::test_name`, parameters aside); the longest match wins.
FILE_ROWS = {
    "tests/test_sts_faults.py::test_faults_through_use_export_and_exec": "STS faults × use/export/exec",
    "tests/test_sts_faults.py": "STS faults in the sessions layer (typed error, one line, cache untouched)",
    "tests/hardening/test_defects.py": "issue 12's seven defects (regression tests)",
    "tests/hardening/test_credential_checks.py": "issue 12's seven defects (regression tests)",
}

#: The rows of issue 12's table, in its order: always printed, "not run" when nothing was tried,
#: so a full run shows at a glance that every row was covered.
ISSUE_ROWS = (
    "kill -9 during vault writes (add, remove, session cache, clear)",
    "kill -9 of the agent during served writes",
    "one byte flipped at every position of a vault",
    "random bit flips, truncations, extensions",
    ("20 concurrent fetches of one expired session, 5 scenarios, with and without the agent (one STS call per step)"),
    "fuzzed values through the shells and `use` in bash, zsh and fish",
    "STS faults × use/export/exec",
    "another uid against the agent",
)


def row_of(nodeid: str) -> str | None:
    """The FILE_ROWS row of a test, by the longest key its id starts with."""
    test = nodeid.split("[")[0]
    keys = [k for k in FILE_ROWS if test == k or test.startswith(k + "::") or test.split("::")[0] == k]
    return FILE_ROWS[max(keys, key=len)] if keys else None


_outcomes: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # row -> [tried, held]
_failed_tests: list[str] = []
_tallied: set[str] = set()


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("AWSV_HARDENING_REPORT"):
        fd, path = tempfile.mkstemp(prefix="awsv-hardening-", suffix=".jsonl")
        os.close(fd)
        os.environ["AWSV_HARDENING_REPORT"] = path


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    failed = report.failed
    if failed and report.nodeid not in _failed_tests:
        _failed_tests.append(report.nodeid)
    if report.when != "call" and not (failed and report.when == "setup"):
        return
    row = row_of(report.nodeid)
    if row is not None:
        _outcomes[row][0] += 1
        _outcomes[row][1] += report.passed


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    notes: dict[str, list[str]] = defaultdict(list)
    report = Path(os.environ["AWSV_HARDENING_REPORT"])
    if report.exists():
        for line in report.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            rows[entry["row"]][0] += entry["tried"]
            rows[entry["row"]][1] += entry["held"]
            notes[entry["row"]] += entry["notes"]
    for row, (tried, held) in _outcomes.items():
        rows[row][0] += tried
        rows[row][1] += held
    scale = os.environ.get("AWSV_HARDENING_SCALE", "ci")
    write = terminalreporter.write_line
    write("")
    write(f"hardening table (scale: {scale})")
    write("")
    write("| test | tried | held | failed |")
    write("| --- | ---: | ---: | ---: |")
    for row in [*ISSUE_ROWS, *sorted(set(rows) - set(ISSUE_ROWS))]:
        tried, held = rows[row]
        failed = f"{tried - held:,}" if tried else "not run"
        write(f"| {row} | {tried:,} | {held:,} | {failed} |")
    for row, row_notes in notes.items():
        for note in row_notes:
            write(f"  failed in {row!r}: {note}")
    for nodeid in _failed_tests:
        write(f"  failed test: {nodeid}")
