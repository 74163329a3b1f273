"""How `awsv list` shows time left: the same shape as the prompt badge."""

from __future__ import annotations

import pytest

from awsv.commands.listing import format_time_left


@pytest.mark.parametrize("seconds, shown", [
    (-5, "expired"), (0, "expired"), (30, "<1m"), (60, "1m"), (59 * 60 + 59, "59m"),
    (3600, "1h00m"), (2 * 3600 + 5 * 60, "2h05m"), (12 * 3600, "12h00m"),
])
def test_format_time_left(seconds: float, shown: str) -> None:
    assert format_time_left(seconds) == shown
