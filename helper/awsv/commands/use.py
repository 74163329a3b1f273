"""`awsv use [PROFILE]` and `awsv off`: shell code that switches a shell's credentials.

The output is meant for `eval "$(awsv use prod)"` (the shell integration
does that for you). Stdout carries only the code, produced through
`awsv.shells`, and only once everything has succeeded. A failed `use` or
`off` prints code that does nothing but fail (`Shell.fail`): the shell's
variables stay exactly as they were, and `eval "$(awsv use prod)" && deploy`
stops, which it would not if the output were empty (`eval ""` succeeds).

The session options (`add_session_arguments`) live here, because `exec`,
`export`, `whoami` and `serve` take the same ones; resolving, the change map,
its shell code and the confirmation line are the delivery layer's
(`awsv.delivery`), shared with the agent, and re-exported here for the
commands that import them from `use`.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from awsv.context import Context
from awsv.delivery.resolve import resolve_credentials
from awsv.delivery.shell import changes_for, describe_expiry, render, using_message
from awsv.environment import off_changes
from awsv.errors import AwsvError, ExitCode, UsageError
from awsv.names import validate_profile_name
from awsv.shells.base import FAIL_ANY

__all__ = [
    "add_session_arguments",
    "changes_for",
    "describe_expiry",
    "off",
    "register",
    "render",
    "resolve_credentials",
    "use",
]


def add_session_arguments(p: argparse.ArgumentParser) -> None:
    """The options every credential-delivering command takes."""
    p.add_argument(
        "--duration",
        "-d",
        metavar="DURATION",
        help="session lifetime: seconds or 1h, 45m, 1h30m (default: the profile's duration_seconds, else one hour)",
    )
    p.add_argument(
        "--no-session",
        "-n",
        action="store_true",
        help="skip GetSessionToken and use the stored long-term key directly "
        "(for a role profile, the key only assumes the role)",
    )
    p.add_argument("--region", metavar="REGION", help="region to export (default: the profile's)")
    p.add_argument(
        "--mfa-token", "-t", metavar="CODE", help="MFA code (default: mfa_process, or a prompt on the terminal)"
    )


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
        hint = (
            f'run `eval "$({command})"`, or enable the shell integration '
            f'(then `{command}` works as typed): add `eval "$({init})"` to {rc_file}'
        )
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
            status = (
                exc.exit_code
                if isinstance(exc, AwsvError)
                else (ExitCode.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else ExitCode.ERROR)
            )
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
    from awsv.commands.pick import profile_from_picker

    with _code_or_failing_code(ctx, args.shell) as out:
        if not args.profile:
            # A person at a terminal (or `awsv pick`): the picker chooses; Esc raises
            # Interrupted, which prints failing code like any failure.
            _refuse_terminal(ctx, "awsv use", args.shell)
            args.profile = profile_from_picker(ctx, args)
        profile = args.profile or ctx.env.get("AWS_PROFILE") or "default"
        validate_profile_name(profile)
        _refuse_terminal(ctx, f"awsv use {args.profile}" if args.profile else "awsv use", args.shell)
        if getattr(args, "no_prompt", False):
            from awsv.tty import NO_PROMPT_VAR

            # The passphrase and MFA code paths read it from the context's environment.
            ctx = dataclasses.replace(ctx, env={**ctx.env, NO_PROMPT_VAR: "1"})
        resolved = resolve_credentials(ctx, profile, args)
        out.append(render(ctx, args.shell, changes_for(profile, resolved)))
    from awsv.usage import record

    record(ctx.env, profile)  # the picker's order; best effort, never fails the switch
    if not args.quiet:
        ctx.info(using_message(profile, resolved))
    return 0


def off(ctx: Context, args: argparse.Namespace) -> int:
    with _code_or_failing_code(ctx, args.shell) as out:
        _refuse_terminal(ctx, "awsv off", args.shell)
        out.append(render(ctx, args.shell, off_changes()))
    return 0


def _add_shell_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--shell", "-s", metavar="SHELL", help="shell to write code for: bash, zsh or fish (default: detected)"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "use",
        help="print shell code that switches this shell to a profile",
        description='Print shell code for `eval "$(awsv use PROFILE)"` that exports '
        "temporary credentials for PROFILE. Without PROFILE: a picker on a terminal "
        "(see `awsv pick`), else $AWS_PROFILE, else default. On failure it prints "
        "code that only fails, so the eval fails too.",
    )
    p.add_argument("profile", nargs="?", help="profile to use")
    _add_shell_argument(p)
    add_session_arguments(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no confirmation line on stderr")
    p.add_argument(
        "--no-prompt",
        action="store_true",
        help="never ask for a passphrase or MFA code (nor run mfa_process); exit with "
        "status 3 when one would be needed (the prompt's refresh hook uses this)",
    )
    # A usage error (awsv.cli's parser) prints this too: `eval` of nothing would succeed.
    p.set_defaults(func=use, stdout_on_usage_error=FAIL_ANY)

    p = sub.add_parser(
        "off",
        help="print shell code that removes awsv's credentials from this shell",
        description='Print shell code for `eval "$(awsv off)"` that unsets every '
        "variable `awsv use` sets, and AWS_PROFILE.",
    )
    _add_shell_argument(p)
    p.set_defaults(func=off, stdout_on_usage_error=FAIL_ANY)
