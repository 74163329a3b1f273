"""`awsv login PROFILE`: open the AWS console signed in with a profile's credentials.

Where the console credentials come from:

- A role profile: its role credentials (vault key, MFA session, role chain or
  credential_process — whatever `awsv use` would give). `--duration` sets the
  console session length: for a role assumed straight from a vault key it is
  sent as `SessionDuration` (up to 12 h, whatever the role's own duration) and
  the role is then assumed without a GetSessionToken session, so that the
  credentials qualify; for a chained role AWS refuses `SessionDuration`, so
  awsv asks for role credentials lasting `--duration` instead (at most 1 h,
  AWS's cap on role chaining).
- A profile with only a long-term key: GetFederationToken with that key and a
  session policy allowing everything, so the federated session has exactly
  the user's own permissions (what aws-vault does), named after the IAM user.
  `--duration` is the token's duration (up to 36 h). AWS does not let
  GetFederationToken carry MFA, so `--mfa-token` is refused there rather
  than ignored, and an `mfa_serial` on the profile gets a warning.
- A `credential_process` profile: its credentials as they are; awsv cannot
  tell how they were made, so it cannot ask AWS for a session length.

The sign-in link is a bearer secret for 15 minutes. `--stdout` prints it and
nothing else. Otherwise awsv never puts it in a browser's argv (which every
local user can read in `ps`): it serves it once from a loopback address —
`http://127.0.0.1:PORT/<random 256-bit path>` — as a 302 redirect, and hands
the browser that address. What the launch exposes is therefore that one-shot
local address in the browser command's argv, usable once, only while awsv
waits (`AWSV_LOGIN_TIMEOUT`, default 120 s), and on Linux only to processes of
the same user (the peer's uid is checked in /proc/net/tcp). The browser is
`$BROWSER` (colon-separated commands; `%s` marks where the address goes,
else it is appended), or Python's `webbrowser`; neither gets the vault
passphrase variables.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from awsv import federation, sts
from awsv.browser import TIMEOUT_VAR, open_in_browser
from awsv.chain import Chain, resolve
from awsv.clock import utcnow
from awsv.context import Context
from awsv.credentials import Credentials, check_values
from awsv.durations import ROLE_CHAINING_LIMIT
from awsv.errors import AwsvError, UsageError
from awsv.names import validate_profile_name
from awsv.vault.items import LongTermKey, key_item_name

#: GetFederationToken's duration when --duration is not given.
DEFAULT_FEDERATION_DURATION = 3600
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class ConsoleCredentials:
    """Temporary credentials fit for getSigninToken, and how to ask for the session."""

    credentials: Credentials
    region: str | None
    #: `SessionDuration` to send, or None when AWS would refuse it (or none was asked).
    session_duration: int | None
    #: When the console session will end, when known.
    until: datetime | None
    #: How they were obtained, for the message: "role", "federation", "credential_process" or "sso".
    origin: str


# -- credentials ---------------------------------------------------------------


def console_credentials(
    ctx: Context,
    profile: str,
    *,
    duration: int | None = None,
    no_session: bool = False,
    mfa_token: str | None = None,
    region: str | None = None,
    now: Callable[[], datetime] = utcnow,
    sts_factory: sts.StsFactory | None = None,
) -> ConsoleCredentials:
    """Credentials for signing `profile` in to the console (rules in the module docstring).

    Raises UsageError for a --duration or --mfa-token AWS cannot honour on
    this profile, and whatever `sessions.get_credentials` or STS raise.
    """
    from awsv.sessions import SessionOptions, get_credentials

    vault = ctx.vault
    chain = resolve(ctx.config, profile, in_vault=lambda n: vault.get(key_item_name(n)) is not None, env=ctx.env)
    region = region or chain.region
    if chain.hops:
        direct = len(chain.hops) == 1 and chain.source.kind == "vault"
        session_duration = None
        if duration is not None and direct:
            # Only role credentials signed by a long-term key may carry SessionDuration.
            session_duration = federation.check_duration(duration, federation.MAX_SESSION_DURATION, "a console session")
            opts = SessionOptions(no_session=True, region=region, mfa_token=mfa_token)
        elif duration is not None:
            _check_chained(profile, chain, duration)
            opts = SessionOptions(duration=duration, no_session=no_session, region=region, mfa_token=mfa_token)
        else:
            opts = SessionOptions(no_session=no_session, region=region, mfa_token=mfa_token)
        creds = get_credentials(ctx, profile, opts, now=now, sts_factory=sts_factory).credentials
        until = now() + timedelta(seconds=session_duration) if session_duration else creds.expiration
        return ConsoleCredentials(creds, region, session_duration, until, "role")
    if chain.source.kind in ("credential_process", "sso"):
        creds = get_credentials(ctx, profile, SessionOptions(region=region), now=now).credentials
        if creds.session_token:
            if duration is not None or mfa_token is not None:
                maker = "IAM Identity Center" if chain.source.kind == "sso" else "its credential_process"
                raise UsageError(
                    f"--{'duration' if duration is not None else 'mfa-token'} cannot be used with "
                    f"profile {profile!r}: its credentials come ready-made from {maker}, "
                    "and awsv cannot tell AWS how long the console may last"
                )
            return ConsoleCredentials(creds, region, None, creds.expiration, chain.source.kind)
        base = creds  # a long-term key printed by the process
    else:
        base = _stored_key(ctx, chain.source.profile)
    return _federation(
        ctx, chain, base, duration=duration, mfa_token=mfa_token, region=region, now=now, sts_factory=sts_factory
    )


def _check_chained(profile: str, chain: Chain, duration: int) -> None:
    if duration > ROLE_CHAINING_LIMIT:
        raise UsageError(
            f"--duration {duration}s is over 1h, and profile {profile!r} gets its role by role "
            f"chaining ({chain.describe()}): AWS caps those credentials at 1h and refuses a "
            "longer console session for them",
            hint="a role assumed directly from a key in the vault can have up to 12h",
        )
    federation.check_duration(duration, ROLE_CHAINING_LIMIT, "role chaining")


def _stored_key(ctx: Context, profile: str) -> Credentials:
    item = ctx.vault.get(key_item_name(profile))
    if item is None:
        raise AwsvError(f"no key stored for {profile!r}", hint=f"awsv add {profile}")
    key = LongTermKey.from_item(item)
    check_values(key, f"the key stored for {profile!r}")
    return Credentials(key.access_key_id, key.secret_access_key)


def _federation(
    ctx: Context,
    chain: Chain,
    key: Credentials,
    *,
    duration: int | None,
    mfa_token: str | None,
    region: str | None,
    now: Callable[[], datetime],
    sts_factory: sts.StsFactory | None,
) -> ConsoleCredentials:
    """GetFederationToken with the user's own permissions, signed by the long-term key."""
    profile = chain.source.profile
    if mfa_token is not None:
        raise UsageError(
            f"--mfa-token cannot be used with profile {profile!r}: it has no role, and console "
            "sign-in from a plain key goes through GetFederationToken, which cannot carry MFA",
            hint=f"to sign in with MFA, add a role profile (role_arn, source_profile = {profile}, "
            "mfa_serial) and log in with that",
        )
    if chain.source.mfa_serial:
        ctx.warn(
            f"profile {profile!r} has an MFA device, but GetFederationToken cannot carry "
            "MFA: policies that require MFA will deny this console session"
        )
    seconds = federation.check_duration(
        duration or DEFAULT_FEDERATION_DURATION, federation.MAX_FEDERATION_DURATION, "GetFederationToken"
    )
    factory = sts_factory or sts.make_factory(sts.ClientSettings.from_env(ctx.env, chain.target))
    client = factory(key, region)
    signer = (
        f"the key stored for {profile!r}"
        if chain.source.kind == "vault"
        else f"the key from the credential_process of {profile!r}"
    )
    _, arn = sts.get_caller_identity(client, what=f"GetCallerIdentity for profile {profile!r}", signer=signer)
    creds = federation.get_federation_token(
        client,
        what=f"GetFederationToken for profile {profile!r}",
        name=federation.federated_user_name(arn),
        duration=seconds,
        signer=signer,
    )
    return ConsoleCredentials(creds, region, None, creds.expiration or now() + timedelta(seconds=seconds), "federation")


# -- the command ---------------------------------------------------------------


def _timeout(env: Mapping[str, str]) -> float:
    raw = env.get(TIMEOUT_VAR)
    if not raw:
        return DEFAULT_TIMEOUT
    from awsv.durations import parse_duration

    value = parse_duration(raw, TIMEOUT_VAR)
    if value < 1:
        raise UsageError(f"{TIMEOUT_VAR} = {raw!r}: expected at least one second")
    return float(value)


def _isolated_commands(ctx: Context, args: argparse.Namespace, profile: str | None) -> list[list[str]] | None:
    """The browser commands for --isolate (or the login_isolate setting), else None."""
    from awsv import isolate

    wanted = args.isolate if args.isolate is not None else isolate.isolate_by_default(ctx.env)
    if not wanted:
        return None
    if profile is None:
        raise UsageError("--isolate needs a PROFILE: each profile has its own browser session")
    color = ctx.config.profile(profile).get("awsv_color") if profile in ctx.config else None
    plan = isolate.plan(ctx.env, profile, color)
    ctx.info(f"opening {plan.how}")
    return plan.commands


def logout(ctx: Context, args: argparse.Namespace) -> int:
    """`--logout`: the console's sign-out page, in the profile's isolated session if asked."""
    from awsv import isolate

    profile = validate_profile_name(args.profile) if args.profile else None
    region = args.region or (ctx.config.profile(profile).region if profile and profile in ctx.config else None)
    partition = federation.choose_partition(region, None)
    url = isolate.logout_url(federation.federation_endpoint(partition, ctx.env))
    if args.stdout:
        ctx.stdout.write(url + "\n")
        ctx.stdout.flush()
        return 0
    commands = _isolated_commands(ctx, args, profile)
    open_in_browser(ctx, url, timeout=_timeout(ctx.env), commands=commands)
    ctx.info("opened the console's sign-out page" + (f" for {profile!r}" if profile else ""))
    return 0


def login(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.durations import parse_duration

    if args.logout:
        return logout(ctx, args)
    if not args.profile:
        raise UsageError("say which profile: awsv login PROFILE")
    profile = validate_profile_name(args.profile)
    # Before any credentials are fetched: an impossible --isolate fails first.
    commands = None if args.stdout else _isolated_commands(ctx, args, profile)
    duration = parse_duration(args.duration, "--duration") if args.duration else None
    timeout = _timeout(ctx.env)
    console = console_credentials(
        ctx, profile, duration=duration, no_session=args.no_session, mfa_token=args.mfa_token, region=args.region
    )
    creds = console.credentials
    partition = federation.choose_partition(console.region, creds.arn)
    endpoint = federation.federation_endpoint(partition, ctx.env)
    destination = federation.console_destination(partition, console.region, args.path)
    settings = sts.ClientSettings.from_env(ctx.env)
    token = federation.request_signin_token(
        endpoint,
        creds,
        env=ctx.env,
        session_duration=console.session_duration,
        timeout=settings.read_timeout,
        origin=f"the {console.origin} credentials of profile {profile!r}",
    )
    url = federation.login_url(endpoint, token, destination)
    until = f"until {console.until.astimezone(UTC):%H:%M} UTC" if console.until else "for as long as AWS allows"
    who = creds.arn or creds.account_id or profile
    if args.stdout:
        ctx.stdout.write(url + "\n")
        ctx.stdout.flush()
        ctx.info(
            f"sign-in link for {profile!r} ({who}), console session {until}; the link "
            "works for 15 minutes and signs in whoever opens it: keep it private"
        )
        return 0
    open_in_browser(ctx, url, timeout=timeout, commands=commands)
    ctx.info(f"opened the console for {profile!r} ({who}), session {until}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "login",
        help="open the AWS console signed in as a profile",
        description="Build an AWS console sign-in link for PROFILE through the federation "
        "endpoint and open it in $BROWSER (or the system browser), or print it with --stdout. "
        "Role profiles use their role credentials; a profile with only a long-term key goes "
        "through GetFederationToken with the user's own permissions. The link is a bearer "
        "secret for 15 minutes: awsv hands the browser a one-shot loopback address that "
        "redirects to it, never the link itself. A text-mode browser (lynx, w3m…) is never "
        "started: without a graphical session, use --stdout.",
    )
    p.add_argument("profile", nargs="?", help="profile to sign in as (optional with --logout)")
    isolation = p.add_mutually_exclusive_group()
    isolation.add_argument(
        "--isolate",
        dest="isolate",
        action="store_true",
        default=None,
        help="a browser session of its own for this profile: a Firefox container "
        "(with a container add-on) or a Chromium user-data directory; default: "
        "AWSV_LOGIN_ISOLATE or login_isolate in ~/.config/awsv/config",
    )
    isolation.add_argument(
        "--no-isolate", dest="isolate", action="store_false", help="the browser's usual session, whatever the setting"
    )
    p.add_argument(
        "--logout",
        action="store_true",
        help="open the console's sign-out page instead (in PROFILE's isolated session with --isolate)",
    )
    p.add_argument(
        "--stdout",
        action="store_true",  # no -s: that is --shell everywhere
        help="print the sign-in link on stdout instead of opening a browser",
    )
    p.add_argument("--region", metavar="REGION", help="console region (default: the profile's)")
    p.add_argument(
        "--path", metavar="PATH", help="console page to open, e.g. ec2/home or s3/buckets (default: console/home)"
    )
    p.add_argument(
        "--duration",
        "-d",
        metavar="DURATION",
        help="console session length: seconds or 1h, 45m… (role from a vault key: up "
        "to 12h; role chain: up to 1h; plain key via GetFederationToken: up to 36h, "
        "default 1h)",
    )
    p.add_argument(
        "--mfa-token", "-t", metavar="CODE", help="MFA code for the profile's role (default: mfa_process, or a prompt)"
    )
    p.add_argument(
        "--no-session",
        "-n",
        action="store_true",
        help="assume the role directly with the stored key, without a GetSessionToken session",
    )
    p.set_defaults(func=login)
