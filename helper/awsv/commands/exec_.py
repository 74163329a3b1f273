"""`awsv exec PROFILE [-- CMD ARGS…]`: run one command with a profile's credentials.

The command replaces awsv (`execvpe`), so its exit status, signals and
terminal are its own and the caller sees them unchanged. Its environment is
the caller's minus everything that unlocks the vault (`secret_env.child_env`)
plus the session variables of the contract (`awsv.environment`). Without a
command it starts `$SHELL`.

`--server` and `--min-ttl` are for commands that outlive their credentials
(`awsv.commands.exec_server`): with `--server` awsv stays, as the command's
parent, serving a local credential endpoint until the command exits.

`--json` / `-j` (aws-vault's spelling) prints the credential_process JSON
instead of running anything, so `credential_process = awsv exec -j P` works
for configs written for aws-vault.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from awsv.commands.exec_server import (
    add_server_arguments,
    check_min_ttl,
    check_server_options,
    run_with_server,
)
from awsv.commands.use import add_session_arguments
from awsv.context import Context
from awsv.delivery.process import credential_process_json
from awsv.delivery.resolve import resolve_credentials
from awsv.delivery.shell import changes_for, describe_expiry
from awsv.environment import active_session, apply_to
from awsv.errors import AwsvError, UsageError
from awsv.names import validate_profile_name
from awsv.secret_env import child_env

DEFAULT_SHELL = "/bin/sh"

# os.execvpe never returns; a test's stand-in may (then run() returns 0).
Execvpe = Callable[[str, Sequence[str], dict[str, str]], None]


class _OptionError(Exception):
    """Trailing words that are not exec options (so they are a command)."""


class _StrictParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _OptionError(message)


def _add_exec_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--force", action="store_true", help="start an interactive shell even inside another awsv or aws-vault session"
    )
    p.add_argument(
        "--json", "-j", action="store_true", help="print credential_process JSON instead of running a command"
    )
    add_session_arguments(p)
    add_server_arguments(p)


def _split_rest(args: argparse.Namespace) -> list[str]:
    """Separate exec options written after PROFILE from the command; return the command.

    `awsv exec P --force -- cmd` and `awsv exec P --json` put options after the
    profile, which argparse leaves in the remainder; they are parsed here into
    `args`. Words after `--`, or a remainder that does not start with an
    option, are the command.
    """
    rest = list(args.rest)
    if rest and rest[0] == "--":
        return rest[1:]
    if "--" in rest:
        cut = rest.index("--")
        options, command = rest[:cut], rest[cut + 1 :]
    elif rest and rest[0].startswith("-"):
        options, command = rest, []
    else:
        return rest
    trailing = _StrictParser(prog="awsv exec", add_help=False)
    _add_exec_options(trailing)
    try:
        parsed = trailing.parse_args(options)
    except _OptionError as exc:
        raise UsageError(
            f"exec: {exc}", hint="put the command after `--`: awsv exec PROFILE [options] -- CMD ARGS..."
        ) from None
    for key, value in vars(parsed).items():
        default = trailing.get_default(key)
        if value != default:
            setattr(args, key, value)
    return command


def _check_profile_exists(ctx: Context, profile: str) -> None:
    """Raise the config's "not found, did you mean" error when `profile` is neither in the
    config nor in the vault (the vault is opened only when the config lacks the name)."""
    if profile in ctx.config:
        return
    from awsv.vault.items import key_item_name

    if ctx.vault.get(key_item_name(profile)) is None:
        raise ctx.config.not_found(profile)


def run(ctx: Context, args: argparse.Namespace, *, execvpe: Execvpe | None = None) -> int:
    """Resolve the profile, then print JSON (-j) or replace this process with the command."""
    command = _split_rest(args)
    profile = validate_profile_name(args.profile)
    min_ttl = check_server_options(args)
    if args.json:
        if command:
            raise UsageError(
                "--json prints credentials and runs no command",
                hint=f"drop the command, or drop --json: awsv exec {profile} -- CMD",
            )
        # No nesting check: this runs nothing and nests nothing (an SDK inside an
        # awsv session may well call `credential_process = awsv exec -j other`).
        resolved = resolve_credentials(ctx, profile, args, final_min_ttl=min_ttl)
        check_min_ttl(profile, resolved, args)
        ctx.stdout.write(credential_process_json(resolved.credentials))
        ctx.stdout.flush()
        return 0
    inside = active_session(ctx.env)
    if inside and not command and not args.force:
        _check_profile_exists(ctx, profile)  # a typo gets "did you mean", not a nesting lecture
        name, value = inside
        raise AwsvError(
            f"refusing to start a shell for {profile!r} inside the session for {value!r} ({name} is set)",
            hint=f"exit that shell (or `awsv off`) first, run one command with "
            f"`awsv exec {profile} -- CMD`, or pass --force to start a shell inside it",
        )
    if args.server:
        return run_with_server(ctx, profile, command, args)
    resolved = resolve_credentials(ctx, profile, args, final_min_ttl=min_ttl)
    check_min_ttl(profile, resolved, args)
    env = apply_to(child_env(ctx.env), changes_for(profile, resolved))
    if not command:
        command = [ctx.env.get("SHELL") or DEFAULT_SHELL]
        ctx.info(f"starting {command[0]} with {profile!r}, {describe_expiry(resolved)}; exit it to leave the session")
    for stream in (ctx.stdout, ctx.stderr, sys.stdout, sys.stderr):
        stream.flush()
    try:
        (execvpe or os.execvpe)(command[0], command, env)
    except FileNotFoundError:
        raise AwsvError(f"command not found: {command[0]!r}") from None
    except PermissionError:
        raise AwsvError(f"permission denied running {command[0]!r}") from None
    except OSError as exc:
        raise AwsvError(f"cannot run {command[0]!r}: {exc.strerror}") from None
    return 0  # only reached with an injected execvpe that returns


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "exec",
        help="run a command (or a shell) with a profile's temporary credentials",
        description="Run CMD with temporary credentials for PROFILE in its "
        "environment (default: $SHELL). The vault passphrase variables are never "
        "passed on. With --json, print credential_process JSON instead.",
        usage="awsv exec [options] PROFILE [-- CMD [ARGS...]]",
        epilog="With --server, CMD gets a local credential endpoint "
        "(AWS_CONTAINER_CREDENTIALS_FULL_URI) that renews the credentials "
        "as long as it runs, instead of key variables.",
    )
    _add_exec_options(p)
    p.add_argument("profile")
    p.add_argument("rest", nargs=argparse.REMAINDER, metavar="CMD", help="command and arguments (after --)")
    p.set_defaults(func=run)
