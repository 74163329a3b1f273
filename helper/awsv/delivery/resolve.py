"""A profile's credentials for delivery, with the one loud warning about long-term keys.

Every command that hands credentials to something else (`use`, `exec`,
`export`, `whoami`, `serve`) takes the same session options and resolves
through here, so they behave the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from awsv.names import validate_profile_name

if TYPE_CHECKING:
    from awsv.context import Context
    from awsv.sessions import ProfileCredentials


def resolve_credentials(
    ctx: Context, profile: str, args: object, *, action: str = "exporting", final_min_ttl: int | None = None
) -> ProfileCredentials:
    """Validate `profile`, get its credentials and warn loudly when they are long-term keys.

    `args` carries the session options by attribute, each optional: `duration`
    (text: seconds or 1h30m), `no_session`, `region`, `mfa_token` (an argparse
    namespace does). `action` says what the command does with them, for the
    warning ("exporting", "using"); `final_min_ttl` goes to `get_credentials`
    (exec --min-ttl). Raises whatever `sessions.get_credentials` raises.
    """
    from awsv.durations import parse_duration
    from awsv.sessions import SessionOptions, get_credentials

    validate_profile_name(profile)
    raw_duration = getattr(args, "duration", None)
    duration = parse_duration(raw_duration, "--duration") if raw_duration else None
    opts = SessionOptions(
        duration=duration,
        no_session=bool(getattr(args, "no_session", False)),
        region=getattr(args, "region", None),
        mfa_token=getattr(args, "mfa_token", None),
    )
    resolved = get_credentials(ctx, profile, opts, final_min_ttl=final_min_ttl)
    if resolved.credentials.session_token is None:
        ctx.warn(
            f"{action} the LONG-TERM access key of {profile!r} "
            f"({resolved.credentials.access_key_id}): it does not expire and gives "
            "its full permissions to anything that reads it"
        )
        if opts.no_session:
            ctx.warn("drop --no-session to get temporary credentials instead")
    return resolved
