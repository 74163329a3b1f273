"""`awsv list`: its order, and how it shows time left (the same shape as the prompt badge)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awsv.durations import format_time_left
from tests.conftest import AwsvRunner
from tests.support.keys import add


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (-5, "expired"),
        (0, "expired"),
        (30, "<1m"),
        (60, "1m"),
        (59 * 60 + 59, "59m"),
        (3600, "1h00m"),
        (2 * 3600 + 5 * 60, "2h05m"),
        (12 * 3600, "12h00m"),
    ],
)
def test_format_time_left(seconds: float, shown: str) -> None:
    assert format_time_left(seconds) == shown


def test_list_is_alphabetical_in_every_form(awsv: AwsvRunner, home: Path) -> None:
    """Config order, [default] and vault-only keys mixed: one alphabetical order everywhere."""
    (home / ".aws" / "config").write_text(
        "[default]\nregion = eu-west-1\n"
        "[profile zeta]\nregion = eu-west-1\n"
        "[profile Beta]\nregion = eu-west-1\n"
        "[profile alpha]\nregion = eu-west-1\n"
    )
    for name in ("zeta", "mid-vault-only"):
        assert add(awsv, name).returncode == 0
    expected = ["alpha", "Beta", "default", "mid-vault-only", "zeta"]
    rows = json.loads(awsv("list", "--json", check=True).stdout)
    assert [r["profile"] for r in rows] == expected
    table = awsv("list", check=True).stdout.splitlines()[1:]
    assert [line.split()[0] for line in table] == expected
    names = awsv("list", "--names", check=True).stdout.split()
    assert names == [n for n in expected if n != "mid-vault-only"]  # config only
    assert "alphabetically" in awsv("list", "--help", check=True).stdout
