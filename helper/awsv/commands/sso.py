"""`awsv sso login|logout|sync`: IAM Identity Center sessions and the profiles they reach.

`login` makes sure the SSO session has a token in the vault: silently
refreshed when the refresh token still works, else a sign-in in the browser
(PKCE) or with a device code (`--device-code`, or no graphical session).
`logout` ends sessions at the portal and forgets them. `sync` writes one
profile per account and role (see `awsv.sso.sync`).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from awsv.context import Context
from awsv.errors import UsageError
from awsv.names import validate_profile_name

if TYPE_CHECKING:
    from awsv.sso.settings import SsoSession


def _session(ctx: Context, args: argparse.Namespace) -> SsoSession:
    """The SSO session named by PROFILE, --sso-session, the only [sso-session], or AWS_PROFILE."""
    from awsv.sso.settings import named_session, session_of

    config = ctx.config
    if getattr(args, "profile", None) and getattr(args, "sso_session", None):
        raise UsageError("give a PROFILE or --sso-session, not both")
    if getattr(args, "sso_session", None):
        return named_session(config, args.sso_session)
    name = getattr(args, "profile", None)
    if name is None and not ctx.env.get("AWS_PROFILE") and len(config.sso_sessions) == 1:
        return named_session(config, next(iter(config.sso_sessions)))
    name = validate_profile_name(name or ctx.env.get("AWS_PROFILE") or "default")
    if name not in config:
        raise config.not_found(name)
    return session_of(config, config.profile(name))


def login(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.sso import flight, tokens

    session = _session(ctx, args)
    token = flight.ensure_token(ctx, session, allow_signin=True, force_signin=args.force, device_code=args.device_code)
    left = int(token.seconds_left(datetime.now(UTC)) // 60)
    ctx.info(
        f"{session.label}: signed in, the token is valid for {left // 60} h {left % 60:02d} min"
        + (" and will be refreshed without a browser" if token.refresh_token else "")
    )
    if args.write_aws_cli_cache:
        path = tokens.write_aws_cli_cache(ctx.env, session, token)
        ctx.warn(f"wrote the token in PLAINTEXT to {path} for the AWS CLI and SDKs (`awsv sso logout` deletes it)")
    return 0


def logout(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.sso.signout import sign_out, stored_sessions

    sessions = [_session(ctx, args)] if (args.profile or args.sso_session) else stored_sessions(ctx)
    if not sessions:
        ctx.info("no SSO session is signed in")
        return 0
    for session in sessions:
        done = sign_out(ctx, session)
        state = "signed out" if done.had_token else "was not signed in"
        extra = f"; cleared {done.cleared} cached credential(s)" if done.cleared else ""
        ctx.info(f"{session.label}: {state}{extra}")
    return 0


def sync(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.sso.sync import run_sync

    return run_sync(ctx, args, _session(ctx, args))


def _target(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "profile",
        nargs="?",
        metavar="PROFILE",
        help="an SSO profile whose session to use (default: the only [sso-session], else $AWS_PROFILE or default)",
    )
    p.add_argument("--sso-session", metavar="NAME", help="an [sso-session NAME] of the AWS config")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sso",
        help="IAM Identity Center: login, logout, sync",
        description="Sign in to IAM Identity Center (SSO), sign out, and write "
        "profiles for the accounts and roles you can reach.",
    )
    verbs = p.add_subparsers(dest="sso_command", metavar="VERB", parser_class=type(p))
    lg = verbs.add_parser(
        "login",
        help="sign in (or silently refresh) an SSO session",
        description="Make sure an SSO session has a valid token in the vault: "
        "refreshed without a browser while the refresh token works, "
        "else a sign-in in the browser or with a device code.",
    )
    _target(lg)
    lg.add_argument(
        "--device-code",
        action="store_true",
        help="sign in with a device code (prints a URL and a code; for SSH, containers)",
    )
    lg.add_argument("--force", action="store_true", help="sign in again even if a token is valid")
    lg.add_argument(
        "--write-aws-cli-cache",
        action="store_true",
        help="also write the token to ~/.aws/sso/cache in PLAINTEXT, for the AWS CLI and SDKs that read it",
    )
    lg.set_defaults(func=login)
    lo = verbs.add_parser(
        "logout",
        help="sign out: call the portal's Logout and forget the tokens",
        description="End SSO sessions (all signed-in ones by default): the "
        "portal's Logout, then the token, registrations, cached role "
        "credentials and the AWS CLI's cache file are deleted.",
    )
    _target(lo)
    lo.set_defaults(func=logout)
    sy = verbs.add_parser(
        "sync",
        help="write one profile per SSO account and role",
        description="Write one profile per account and role the signed-in user "
        "can reach to ~/.aws/config. Profiles it wrote are marked, "
        "updated in place and (with --prune) removed; others are "
        "never touched.",
    )
    _target(sy)
    from awsv.sso.sync import add_arguments

    add_arguments(sy)
    sy.set_defaults(func=sync)

    def usage(ctx: Context, args: argparse.Namespace) -> int:
        p.print_help(ctx.stderr)
        return 2

    p.set_defaults(func=usage)
