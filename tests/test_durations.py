"""One rule for time left: Python's messages and list, and the zsh and bash badges, agree.

The badges are rendered by the real plugin functions in real zsh and bash,
at boundary values (0, 59 s, 59:59, 60:00, …, and past expiry). Each shell
sets AWSV_EXPIRES from its own clock and renders within the same second
(retrying if a second boundary slipped in), so nothing depends on timing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from awsv.commands.use import describe_expiry
from awsv.credentials import Credentials
from awsv.durations import format_time_left, whole_seconds_left
from tests.conftest import REPO

#: Seconds before expiry, at the edges of every unit.
OFFSETS = (-3600, -5, -1, 0, 1, 59, 60, 61, 119, 3599, 3600, 3601, 3659, 3660, 7199, 43_200)

SCRIPT = """
{source} {plugin}
AWSV_PROFILE=dev
for off in {offsets}; do
  while :; do
    t0=$EPOCHSECONDS
    AWSV_EXPIRES=$(( t0 + off ))
    _awsv_render
    [[ $EPOCHSECONDS == "$t0" ]] && break
  done
  printf '%s|%s\\n' "$off" "$AWSV_BADGE"
done
"""

SHELLS = {
    "zsh": (["zsh", "-f", "-c"], REPO / "shell/zsh/awsv.plugin.zsh"),
    "bash": (["bash", "--noprofile", "--norc", "-c"], REPO / "shell/bash/awsv.bash"),
}


def _badge_times(shell: str) -> dict[int, str]:
    argv, plugin = SHELLS[shell]
    assert shutil.which(argv[0]), f"{argv[0]} is not installed: run ./scripts/test"
    script = SCRIPT.format(source="source", plugin=plugin, offsets=" ".join(map(str, OFFSETS)))
    out = subprocess.run([*argv, script], capture_output=True, text=True, timeout=60, check=True).stdout
    times = {}
    for line in out.splitlines():
        off, badge = line.split("|", 1)
        plain = re.sub(r"%F\{[^}]*\}|%f|\x01[^\x02]*\x02", "", badge)  # zsh and bash colour codes
        match = re.fullmatch(r"\[dev (\S+)\]", plain)
        assert match, badge
        times[int(off)] = match.group(1)
    assert sorted(times) == sorted(OFFSETS)
    return times


def _python_time(offset: int, fraction: float) -> str:
    now = 1_800_000_000 + fraction  # any instant within the second the badge saw
    return format_time_left(whole_seconds_left(1_800_000_000 + offset, now))


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_badge_and_python_show_the_same_time_left(shell: str) -> None:
    badge = _badge_times(shell)
    for offset in OFFSETS:
        for fraction in (0.0, 0.5, 0.999):
            assert _python_time(offset, fraction) == badge[offset], (shell, offset, fraction)


def test_the_rule_at_its_boundaries() -> None:
    shown = {offset: _python_time(offset, 0.7) for offset in OFFSETS}
    assert shown[0] == shown[-5] == "expired"
    assert shown[59] == "<1m" and shown[60] == "1m"
    assert shown[3599] == "59m" and shown[3600] == "1h00m" and shown[3659] == "1h00m"
    assert shown[3660] == "1h01m" and shown[43_200] == "12h00m"


def test_use_message_says_what_the_badge_says() -> None:
    """`awsv use`'s line (also the agent's) once said "in 59 min" where the badge said 1h00m."""
    expires = datetime.fromtimestamp(1_800_003_600, UTC)
    creds = Credentials("ASIAEXAMPLE", "secret", "token", expires)
    resolved = SimpleNamespace(credentials=creds)
    for now, left in (
        (1_800_000_000.4, "in 1h00m"),
        (1_800_000_001.0, "in 59m"),
        (1_800_003_600.2, "expired"),
        (1_800_009_000, "expired"),
    ):
        message = describe_expiry(resolved, datetime.fromtimestamp(now, UTC))  # type: ignore[arg-type]
        assert message == f"expires {expires:%H:%M} UTC ({left})"
