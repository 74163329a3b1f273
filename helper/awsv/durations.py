"""awsv's one duration syntax, its one way to show time left, and the session lifetimes.

`3600`, `1h`, `45m`, `1h30m`, `90s` mean the same in every flag and variable
(`--duration`, AWSV_SESSION_TTL, AWSV_AGENT_IDLE, …), and AWS's own bounds on
session lifetimes live here once, for the sessions and the console sign-in.

Time left on a session is computed and shown one way everywhere, the prompt
badge included (shell/zsh/awsv.plugin.zsh, shell/bash/awsv.bash, which do the
same integer arithmetic on AWSV_EXPIRES): whole seconds, `int(expiry) -
int(now)`, rounded down to whole minutes, shown as `expired`, `<1m`, `59m`,
`1h00m`. So `awsv use` never says 59 minutes while the badge says 1h00m.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from awsv.errors import UsageError

DEFAULT_SESSION_TTL = 3600
DEFAULT_ROLE_TTL = 3600
DEFAULT_MIN_TTL = 300
#: AWS refuses shorter sessions and roles.
MIN_DURATION = 900
#: AWS caps a role assumed with session credentials at this (role chaining).
ROLE_CHAINING_LIMIT = 3600

SESSION_TTL_VARS = ("AWSV_SESSION_TTL", "AWS_SESSION_TOKEN_TTL")
ROLE_TTL_VARS = ("AWSV_ASSUME_ROLE_TTL", "AWS_ASSUME_ROLE_TTL")
MIN_TTL_VARS = ("AWSV_MIN_TTL", "AWS_MIN_TTL")


def whole_seconds_left(expires_epoch: float, now_epoch: float) -> int:
    """`int(expiry) - int(now)`: the badge's `AWSV_EXPIRES - EPOCHSECONDS`, negative when past."""
    return int(expires_epoch) - int(now_epoch)


def format_time_left(seconds: float) -> str:
    """`expired` (<= 0), `<1m`, `59m`, `1h00m`, `12h05m`: minutes rounded down, as the badge shows."""
    whole = int(seconds)
    if whole <= 0:
        return "expired"
    minutes = whole // 60
    if minutes < 1:
        return "<1m"
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z")


def parse_duration(raw: str, origin: str) -> int:
    """`3600`, `1h`, `45m`, `1h30m`, `90s` -> seconds; anything else is a UsageError naming `origin`."""
    text = raw.strip().lower()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groups()):
        raise UsageError(
            f"{origin} = {raw!r} is not a duration", hint="use seconds or h/m/s units, e.g. 3600, 1h, 45m, 1h30m"
        )
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class Ttls:
    """Default durations and the minimum remaining lifetime of a reusable cached step."""

    session: int = DEFAULT_SESSION_TTL
    role: int = DEFAULT_ROLE_TTL
    min: int = DEFAULT_MIN_TTL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ttls:
        """Read the TTL variables (awsv's name first, then aws-vault's)."""
        return cls(
            session=_env_duration(env, SESSION_TTL_VARS, DEFAULT_SESSION_TTL, MIN_DURATION),
            role=_env_duration(env, ROLE_TTL_VARS, DEFAULT_ROLE_TTL, MIN_DURATION),
            min=_env_duration(env, MIN_TTL_VARS, DEFAULT_MIN_TTL, 0),
        )


def _env_duration(env: Mapping[str, str], names: tuple[str, ...], default: int, minimum: int) -> int:
    for name in names:
        raw = env.get(name)
        if raw:
            value = parse_duration(raw, name)
            if value < minimum:
                raise UsageError(f"{name} = {raw!r} is shorter than AWS allows ({minimum // 60}m)")
            return value
    return default
