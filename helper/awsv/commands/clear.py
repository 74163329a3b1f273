"""`awsv clear [PROFILE]`: forget cached sessions, so the next use asks STS again.

Useful after changing a role's permissions or an MFA device, or before
handing a machine to someone else. Long-term keys are not touched.
"""

from __future__ import annotations

import argparse

from awsv.context import Context
from awsv.names import validate_profile_name


def clear(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.sessions import clear_sessions

    profile = validate_profile_name(args.profile) if args.profile else None
    count = clear_sessions(ctx, profile)
    if profile is not None and count == 0 and profile not in ctx.config:
        # Nothing cached and no such profile: most likely a typo, so say "did you mean".
        raise ctx.config.not_found(profile)
    what = f"for {profile!r}" if profile else "for all profiles"
    noun = "session" if count == 1 else "sessions"
    ctx.info(f"cleared {count} cached {noun} {what}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "clear",
        help="delete cached sessions (all, or one profile's)",
        description="Delete cached temporary sessions from the vault; the next "
        "use, exec or export gets fresh ones. Long-term keys stay.",
    )
    p.add_argument("profile", nargs="?", help="only this profile's sessions")
    p.set_defaults(func=clear)
