"""Size and bookkeeping for the hardening suite.

`AWSV_HARDENING_SCALE` picks the size: `ci` (default; the whole suite fits in
a minute or two on 2 cores) or `full` (the sizes of issue 12's table; run by
`scripts/hardening --full`). Each test that tries many things reports how many
it tried and how many held through the `tally` fixture; when
`AWSV_HARDENING_REPORT` names a file, the counts are appended to it as JSON
lines, and `scripts/hardening` prints them as the table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.agent_world import World, cleanup_agents, make_world

SCALE = os.environ.get("AWSV_HARDENING_SCALE", "ci").strip().lower()
if SCALE not in ("ci", "full"):
    raise pytest.UsageError(f"AWSV_HARDENING_SCALE must be ci or full, not {SCALE!r}")
FULL = SCALE == "full"


def size(ci: int, full: int) -> int:
    """How many cases to try at the current scale."""
    return full if FULL else ci


@dataclass
class Tally:
    """One row of the table: what was tried, how many held."""

    row: str
    tried: int = 0
    held: int = 0
    notes: list[str] = field(default_factory=list)

    def attempt(self, held: bool, note: str = "") -> bool:
        self.tried += 1
        self.held += bool(held)
        if not held and note and len(self.notes) < 5:
            self.notes.append(note)
        return held


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """A row named by the test's `hardening_row` marker; written out at the end of the test."""
    marker = request.node.get_closest_marker("hardening_row")
    row = marker.args[0] if marker else request.node.name
    t = Tally(row)
    yield t
    report = os.environ.get("AWSV_HARDENING_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as fh:
            fh.write(
                json.dumps(
                    {"row": t.row, "tried": t.tried, "held": t.held, "notes": t.notes, "test": request.node.nodeid}
                )
                + "\n"
            )
    assert t.tried > 0, "the test tried nothing"
    assert t.held == t.tried, f"{t.tried - t.held} of {t.tried} did not hold: {t.notes}"


@pytest.fixture
def agent_world(home: Path) -> Iterator[World]:
    """The agent's world (tests/support/agent_world.py): a file vault and a real agent of this test's own."""
    w = make_world(home)
    try:
        yield w
    finally:
        cleanup_agents(w.awsv, w.mark)
