"""ProfileCredentials credentials as a shell's change: the change map, its code, and the confirmation line.

`awsv use`, `awsv export --format export`, `awsv serve` and the agent's answer
to the fast path all go through these, so the shell sees the same variables
and the user the same line whichever way the credentials came.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from awsv.clock import utcnow
from awsv.environment import session_changes
from awsv.errors import AwsvError

if TYPE_CHECKING:
    from awsv.context import Context
    from awsv.sessions import ProfileCredentials
    from awsv.shells.base import Changes


def changes_for(profile: str, resolved: ProfileCredentials) -> dict[str, str | None]:
    """The contract's change map for a resolved profile (its region already honours --region).

    The profile's display settings (awsv_color, awsv_alias) ride along, so
    the prompt badge never has to read the config.
    """
    target = resolved.chain.target
    return session_changes(
        profile, resolved.credentials, resolved.region, color=target.get("awsv_color"), alias=target.get("awsv_alias")
    )


def render(ctx: Context, shell_flag: str | None, changes: Changes) -> str:
    """Shell code for `changes` in the shell chosen by --shell or detection."""
    from awsv.shells import detect_shell, get_shell

    shell = get_shell(detect_shell(ctx.env, shell_flag))
    try:
        return shell.apply(changes)
    except ValueError as exc:
        # The message names the variable, never its value.
        raise AwsvError(f"cannot write shell code: {exc}") from None


def describe_expiry(resolved: ProfileCredentials, now: datetime | None = None) -> str:
    """`expires 13:05 UTC (in 1h00m)`, or a note that the key does not expire.

    The time left is `awsv.durations`' one rule, so it reads as the prompt badge does.
    """
    from awsv.durations import format_time_left, whole_seconds_left

    creds = resolved.credentials
    if creds.expiration is None:
        return "does not expire"
    left = whole_seconds_left(creds.expiration.timestamp(), (now or utcnow()).timestamp())
    span = f"in {format_time_left(left)}" if left > 0 else "expired"
    return f"expires {creds.expiration.astimezone(UTC):%H:%M} UTC ({span})"


def using_message(profile: str, resolved: ProfileCredentials) -> str:
    """The line `awsv use` confirms with (without the `awsv: ` prefix)."""
    account = resolved.credentials.account_id or "unknown account"
    return f"using {profile!r} ({account}), {describe_expiry(resolved)}"
