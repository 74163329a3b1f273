"""`awsv exec --server` and `awsv exec --min-ttl`: exec's options for long-running commands.

Kept beside `exec_` so that module stays about running one command with
variables. Variables die with their session: `--min-ttl D` refuses to start
a command whose credentials would expire within D, and `--server` gives the
command a local credential endpoint (`awsv.delivery`) that renews them for as
long as it runs. Nothing heavy is imported until one of them is used.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from awsv.context import Context
from awsv.errors import AwsvError, UsageError

if TYPE_CHECKING:
    from awsv.sessions import ProfileCredentials

DEFAULT_SHELL = "/bin/sh"


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        action="store_true",
        help="give CMD a local credential endpoint that renews the credentials while it "
        "runs (AWS_CONTAINER_CREDENTIALS_FULL_URI), instead of key variables",
    )
    p.add_argument(
        "--listen",
        metavar="ADDR[:PORT]",
        help="with --server: address for the endpoint (default 127.0.0.1, a random port); "
        "anything but loopback is reachable by others",
    )
    p.add_argument(
        "--min-ttl",
        metavar="DURATION",
        help="refuse to start unless the credentials stay valid at least this long "
        "(e.g. 2h); --server renews them instead",
    )


def check_server_options(args: argparse.Namespace) -> int | None:
    """Refuse option combinations that make no sense; returns --min-ttl in seconds (or None)."""
    from awsv.durations import parse_duration

    if getattr(args, "listen", None) and not args.server:
        raise UsageError("--listen is for the credential endpoint", hint="add --server")
    if args.server and args.json:
        raise UsageError(
            "--server runs a command with a credential endpoint; --json prints credentials and runs nothing",
            hint="drop one of them",
        )
    raw = getattr(args, "min_ttl", None)
    if raw is None:
        return None
    if args.server:
        raise UsageError(
            "--min-ttl is for the variables mode: with --server the endpoint renews "
            "the credentials as long as the command runs",
            hint="drop --min-ttl",
        )
    min_ttl = parse_duration(raw, "--min-ttl")
    if min_ttl <= 0:
        raise UsageError("--min-ttl must be longer than 0 seconds")
    return min_ttl


def check_min_ttl(profile: str, resolved: ProfileCredentials, args: argparse.Namespace) -> None:
    """With --min-ttl, refuse credentials that expire too soon (and say what would work)."""
    raw = getattr(args, "min_ttl", None)
    if raw is None:
        return
    from datetime import UTC, datetime

    from awsv.delivery.shell import describe_expiry
    from awsv.durations import parse_duration

    creds = resolved.credentials
    left = creds.seconds_left(datetime.now(UTC))
    if left is None or left >= parse_duration(raw, "--min-ttl"):
        return
    raise AwsvError(
        f"the session of {profile!r} {describe_expiry(resolved)}, before --min-ttl {raw} is up",
        hint=f"`awsv exec --server {profile} -- CMD` renews them while CMD runs; or ask for a longer "
        "--duration (a role allows at most its maximum session duration, 1h when chained)",
    )


def run_with_server(ctx: Context, profile: str, command: list[str], args: argparse.Namespace) -> int:
    """Serve `profile` on a local endpoint, run `command` with its variables, leave with its status."""
    from awsv.delivery.endpoint import LOOPBACK, parse_listen
    from awsv.delivery.served import listen_warnings, serve_profile
    from awsv.delivery.shell import describe_expiry
    from awsv.durations import parse_duration
    from awsv.environment import apply_to
    from awsv.secret_env import child_env
    from awsv.sessions import SessionOptions
    from awsv.supervise import exit_like, run_foreground

    host, port = parse_listen(args.listen) if args.listen else (LOOPBACK, 0)
    for line in listen_warnings(host):
        ctx.warn(line)
    opts = SessionOptions(
        duration=parse_duration(args.duration, "--duration") if args.duration else None,
        no_session=bool(args.no_session),
        region=args.region,
        mfa_token=args.mfa_token,
    )
    served = serve_profile(ctx, profile, opts, host=host, port=port)
    try:
        env = apply_to(child_env(ctx.env), served.changes())
        if not command:
            command = [ctx.env.get("SHELL") or DEFAULT_SHELL]
            ctx.info(
                f"starting {command[0]} with a credential endpoint for {profile!r} "
                f"(renewed as it runs; now {describe_expiry(served.resolved)}); exit it to stop"
            )
        for stream in (ctx.stdout, ctx.stderr):
            stream.flush()
        try:
            status = run_foreground(command, env)
        except FileNotFoundError:
            raise AwsvError(f"command not found: {command[0]!r}") from None
        except PermissionError:
            raise AwsvError(f"permission denied running {command[0]!r}") from None
        except OSError as exc:
            raise AwsvError(f"cannot run {command[0]!r}: {exc.strerror}") from None
    finally:
        served.stop()
    return exit_like(status)
