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

#: Rows for tests that do not keep a tally: one case per test.
FILE_ROWS = {
    "tests/test_sts_faults.py": "STS faults × use/export/exec",
    "tests/hardening/test_defects.py": "issue 12's seven defects (regression tests)",
}

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
    path = report.nodeid.split("::")[0]
    row = FILE_ROWS.get(path)
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
    for row in sorted(rows):
        tried, held = rows[row]
        write(f"| {row} | {tried:,} | {held:,} | {tried - held:,} |")
    for row, row_notes in notes.items():
        for note in row_notes:
            write(f"  failed in {row!r}: {note}")
    for nodeid in _failed_tests:
        write(f"  failed test: {nodeid}")
