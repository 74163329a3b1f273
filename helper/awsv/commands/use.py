"""`awsv use [PROFILE]` and `awsv off`: shell code that switches a shell's credentials.

The output is meant for `eval "$(awsv use prod)"` (the shell integration
does that for you). Stdout carries only the code, produced through
`awsv.shells`, and only once everything has succeeded. A failed `use` or
`off` prints code that does nothing but fail (`Shell.fail`): the shell's
variables stay exactly as they were, and `eval "$(awsv use prod)" && deploy`
stops, which it would not if the output were empty (`eval ""` succeeds).

The session options and the "resolve, then warn about long-term keys"
step live here too, because `exec`, `export` and `whoami` take the same
options and must behave the same.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from awsv.clock import utcnow
from awsv.context import Context
from awsv.environment import off_changes, session_changes
from awsv.errors import AwsvError, ExitCode, UsageError
from awsv.names import validate_profile_name
from awsv.shells.base import FAIL_ANY

if TYPE_CHECKING:
    from awsv.sessions import Resolved


def add_session_arguments(p: argparse.ArgumentParser) -> None:
    """The options every credential-delivering command takes."""
    p.add_argument("--duration", "-d", metavar="DURATION",
                   help="session lifetime: seconds or 1h, 45m, 1h30m (default: the profile's "
                   "duration_seconds, else one hour)")
    p.add_argument("--no-session", "-n", action="store_true",
                   help="skip GetSessionToken and use the stored long-term key directly "
                   "(for a role profile, the key only assumes the role)")
    p.add_argument("--region", metavar="REGION", help="region to export (default: the profile's)")
    p.add_argument("--mfa-token", "-t", metavar="CODE",
                   help="MFA code (default: mfa_process, or a prompt on the terminal)")


def resolve_credentials(ctx: Context, profile: str, args: argparse.Namespace, *,
                        action: str = "exporting", final_min_ttl: int | None = None) -> Resolved:
    """Validate `profile`, get its credentials and warn loudly when they are long-term keys.

    `action` says what the command does with them, for the warning
    ("exporting", "using"); `final_min_ttl` goes to `get_credentials` (exec --min-ttl).
    Raises whatever `sessions.get_credentials` raises.
    """
    from awsv.durations import parse_duration
    from awsv.sessions import SessionOptions, get_credentials

    validate_profile_name(profile)
    raw_duration = getattr(args, "duration", None)
    duration = parse_duration(raw_duration, "--duration") if raw_duration else None
    opts = SessionOptions(duration=duration, no_session=bool(getattr(args, "no_session", False)),
                          region=getattr(args, "region", None),
                          mfa_token=getattr(args, "mfa_token", None))
    resolved = get_credentials(ctx, profile, opts, final_min_ttl=final_min_ttl)
    if resolved.credentials.session_token is None:
        ctx.warn(f"{action} the LONG-TERM access key of {profile!r} "
                 f"({resolved.credentials.access_key_id}): it does not expire and gives "
                 "its full permissions to anything that reads it")
        if opts.no_session:
            ctx.warn("drop --no-session to get temporary credentials instead")
    return resolved


def changes_for(profile: str, resolved: Resolved) -> dict[str, str | None]:
    """The contract's change map for a resolved profile (its region already honours --region).

    The profile's display settings (awsv_color, awsv_alias) ride along, so
    the prompt badge never has to read the config.
    """
    target = resolved.chain.target
    return session_changes(profile, resolved.credentials, resolved.region,
                           color=target.get("awsv_color"), alias=target.get("awsv_alias"))


def render(ctx: Context, shell_flag: str | None, changes: dict[str, str | None]) -> str:
    """Shell code for `changes` in the shell chosen by --shell or detection."""
    from awsv.shells import detect_shell, get_shell

    shell = get_shell(detect_shell(ctx.env, shell_flag))
    try:
        return shell.apply(changes)
    except ValueError as exc:
        # The message names the variable, never its value.
        raise AwsvError(f"cannot write shell code: {exc}") from None


def describe_expiry(resolved: Resolved, now: datetime | None = None) -> str:
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


def _shell_name(ctx: Context, shell_flag: str | None) -> str | None:
    """The shell `render` would write for, or None when it cannot be told."""
    from awsv.shells import detect_shell

    try:
        return detect_shell(ctx.env, shell_flag)
    except AwsvError:
        return None


def _stdout_is_terminal(ctx: Context) -> bool:
    isatty = getattr(ctx.stdout, "isatty", None)
    return bool(isatty is not None and isatty())


def _refuse_terminal(ctx: Context, command: str, shell_flag: str | None) -> None:
    """Printing credentials as shell code on a terminal leaks them to the scrollback.

    The hint shows the spelling for the shell in use (fish has no `eval "$(…)"`).
    """
    if not _stdout_is_terminal(ctx):
        return
    shell = _shell_name(ctx, shell_flag)
    if shell == "fish":
        hint = f"run `{command} | source`"
    else:
        rc_file = {"bash": "~/.bashrc", "zsh": "~/.zshrc"}.get(shell or "", "your shell rc file")
        init = f"awsv shell-init {shell}" if shell in ("bash", "zsh") else "awsv shell-init zsh|bash"
        hint = (f'run `eval "$({command})"`, or enable the shell integration '
                f'(then `{command}` works as typed): add `eval "$({init})"` to {rc_file}')
    raise UsageError(f"`{command}` prints shell code for your shell to evaluate", hint=hint)


@contextmanager
def _code_or_failing_code(ctx: Context, shell_flag: str | None) -> Iterator[list[str]]:
    """Collect the code to print; on any failure print failing code instead, then re-raise.

    The body appends the finished code to the yielded list; nothing reaches
    stdout until the body has completed, so stdout carries either all of the
    code or only `Shell.fail` (never part of a set of exports). Nothing is
    printed to a terminal (see `_refuse_terminal`).
    """
    out: list[str] = []
    try:
        yield out
    except (Exception, KeyboardInterrupt) as exc:
        if not _stdout_is_terminal(ctx):
            status = exc.exit_code if isinstance(exc, AwsvError) else (
                ExitCode.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else ExitCode.ERROR)
            code = FAIL_ANY
            shell = _shell_name(ctx, shell_flag)
            if shell is not None:
                from awsv.shells import get_shell

                code = get_shell(shell).fail(int(status))
            try:
                ctx.stdout.write(code)
                ctx.stdout.flush()
            except OSError:
                pass  # stdout is gone: nobody will evaluate anything
        raise
    ctx.stdout.write("".join(out))
    ctx.stdout.flush()


def use(ctx: Context, args: argparse.Namespace) -> int:
    with _code_or_failing_code(ctx, args.shell) as out:
        profile = args.profile or ctx.env.get("AWS_PROFILE") or "default"
        validate_profile_name(profile)
        _refuse_terminal(ctx, f"awsv use {args.profile}" if args.profile else "awsv use", args.shell)
        if getattr(args, "no_prompt", False):
            from awsv.tty import NO_PROMPT_VAR

            # The passphrase and MFA code paths read it from the context's environment.
            ctx = dataclasses.replace(ctx, env={**ctx.env, NO_PROMPT_VAR: "1"})
        resolved = resolve_credentials(ctx, profile, args)
        out.append(render(ctx, args.shell, changes_for(profile, resolved)))
    if not args.quiet:
        account = resolved.credentials.account_id or "unknown account"
        ctx.info(f"using {profile!r} ({account}), {describe_expiry(resolved)}")
    return 0


def off(ctx: Context, args: argparse.Namespace) -> int:
    with _code_or_failing_code(ctx, args.shell) as out:
        _refuse_terminal(ctx, "awsv off", args.shell)
        out.append(render(ctx, args.shell, off_changes()))
    return 0


def _add_shell_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shell", "-s", metavar="SHELL",
                   help="shell to write code for: bash, zsh or fish (default: detected)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("use", help="print shell code that switches this shell to a profile",
                       description='Print shell code for `eval "$(awsv use PROFILE)"` that exports '
                       "temporary credentials for PROFILE (default: $AWS_PROFILE, else default). "
                       "On failure it prints code that only fails, so the eval fails too.")
    p.add_argument("profile", nargs="?", help="profile to use")
    _add_shell_argument(p)
    add_session_arguments(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no confirmation line on stderr")
    p.add_argument("--no-prompt", action="store_true",
                   help="never ask for a passphrase or MFA code (nor run mfa_process); exit with "
                   "status 3 when one would be needed (the prompt's refresh hook uses this)")
    # A usage error (awsv.cli's parser) prints this too: `eval` of nothing would succeed.
    p.set_defaults(func=use, stdout_on_usage_error=FAIL_ANY)

    p = sub.add_parser("off", help="print shell code that removes awsv's credentials from this shell",
                       description='Print shell code for `eval "$(awsv off)"` that unsets every '
                       "variable `awsv use` sets, and AWS_PROFILE.")
    _add_shell_argument(p)
    p.set_defaults(func=off, stdout_on_usage_error=FAIL_ANY)
