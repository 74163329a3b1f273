"""`awsv clear [PROFILE]`: forget cached sessions, so the next use asks STS again.

Useful after changing a role's permissions or an MFA device, or before
handing a machine to someone else. Long-term keys are not touched. SSO
tokens are: `awsv clear` signs out of every IAM Identity Center session
(the portal's Logout, then the tokens are deleted), `awsv clear PROFILE`
of the one that profile signs in to.
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
    _sign_out_sso(ctx, profile)
    return 0


def _sign_out_sso(ctx: Context, profile: str | None) -> None:
    """SSO tokens go too: every signed-in session, or the one `profile`'s chain signs in to."""
    from awsv.sso.tokens import TOKEN_PREFIX

    if not any(name.startswith(TOKEN_PREFIX) for name in ctx.vault.list()):
        return
    from awsv.sso.settings import role_of
    from awsv.sso.signout import sign_out, stored_sessions

    if profile is None:
        sessions = stored_sessions(ctx)
    else:
        from awsv.chain import resolve
        from awsv.errors import ConfigError

        try:
            chain = resolve(ctx.config, profile, in_vault=lambda n: True)
            if chain.source.kind != "sso":
                return
            sessions = [role_of(ctx.config, ctx.config.profile(chain.source.profile)).session]
        except ConfigError:
            return
    for session in sessions:
        if sign_out(ctx, session).had_token:
            ctx.info(f"signed out of {session.label}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "clear",
        help="delete cached sessions (all, or one profile's)",
        description="Delete cached temporary sessions from the vault; the next "
        "use, exec or export gets fresh ones. Long-term keys stay.",
    )
    p.add_argument("profile", nargs="?", help="only this profile's sessions")
    p.set_defaults(func=clear)
