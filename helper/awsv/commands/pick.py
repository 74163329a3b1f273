"""`awsv pick` (and `awsv use` with no profile on a terminal): choose a profile in a picker.

The picker (`awsv.picker`) only chooses; the switch is `awsv use`'s own
code with the chosen profile, so the shell code, the checks and the
messages are exactly those of `awsv use PROFILE`. Esc prints nothing (or,
through `use`, only code that fails) and changes nothing.

The list comes from the config alone, so it appears at once; the cached
sessions' time left (and the accounts of key profiles) come from the vault
only when it opens without asking (agent, passphrase command or variable),
after the first screen is drawn.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from awsv.context import Context
from awsv.errors import AwsvError, Interrupted, UsageError


def wants_picker(ctx: Context, args: argparse.Namespace) -> bool:
    """`awsv use` without a profile opens the picker when a person is at a terminal:
    stdin is one, /dev/tty opens, and prompts are allowed."""
    from awsv.tty import has_terminal, prompts_allowed

    if getattr(args, "no_prompt", False) or not prompts_allowed(ctx.env):
        return False
    isatty = getattr(ctx.stdin, "isatty", None)
    return bool(isatty is not None and isatty()) and has_terminal()


def _profiles(ctx: Context) -> list[tuple[str, dict[str, str]]]:
    from awsv.names import is_valid_profile_name

    config = ctx.config
    out = []
    for name in config.names():
        if not is_valid_profile_name(name):
            continue
        try:
            settings = dict(config.profile(name).settings)
        except AwsvError:
            settings = {}
        out.append((name, settings))
    return out


def session_details(ctx: Context) -> tuple[dict[str, float], dict[str, str]]:
    """(seconds left, account) per profile from the cached sessions, when the vault opens
    without asking; empty otherwise (the picker then shows `-`)."""
    from awsv.tty import NO_PROMPT_VAR

    quiet = dataclasses.replace(ctx, env={**ctx.env, NO_PROMPT_VAR: "1"})
    try:
        from awsv.sessions import cached_sessions

        cached = cached_sessions(quiet)
    except (AwsvError, OSError):
        return {}, {}
    left: dict[str, float] = {}
    accounts: dict[str, str] = {}
    for session in cached:
        left[session.profile] = max(left.get(session.profile, session.seconds_left), session.seconds_left)
        if session.account_id:
            accounts.setdefault(session.profile, session.account_id)
    return left, accounts


def choose_profile(ctx: Context) -> str:
    """The profile chosen in the picker; Interrupted when the user leaves it."""
    from awsv import picker, usage

    profiles = _profiles(ctx)
    if not profiles:
        raise AwsvError("no profiles to pick from", hint="add one to ~/.aws/config, or `awsv add NAME`")
    now = time.time()
    entries = picker.build_entries(profiles, usage.load(ctx.env), now)

    def details() -> list[picker.Entry]:
        left, accounts = session_details(ctx)
        return picker.build_entries(profiles, usage.load(ctx.env), now, left, accounts)

    chosen = picker.pick(entries, ctx.env, later=details)
    if chosen is None:
        raise Interrupted("no profile chosen; nothing was changed")
    return chosen


def profile_from_picker(ctx: Context, args: argparse.Namespace) -> str | None:
    """For `awsv use` without a profile: the picker's choice when a person is at a
    terminal (always for `awsv pick`, which fails without one); None keeps use's
    default ($AWS_PROFILE, else default)."""
    if wants_picker(ctx, args):
        return choose_profile(ctx)
    if getattr(args, "require_picker", False):
        raise UsageError(
            "`awsv pick` needs a terminal to show the picker", hint="name the profile instead: awsv use PROFILE"
        )
    return None


def pick(ctx: Context, args: argparse.Namespace) -> int:
    """`awsv use` with the picker required: the same code, checks and output."""
    from awsv.commands.use import use

    args.profile = None
    args.require_picker = True
    return use(ctx, args)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from awsv.commands.use import _add_shell_argument, add_session_arguments

    p = sub.add_parser(
        "pick",
        help="choose a profile in a picker and switch this shell to it",
        description="Show the profiles (account, region, source, session time left), "
        "most used first; type to filter, Enter switches (as `awsv use PROFILE`), "
        "Esc changes nothing. Uses fzf when installed (AWSV_PICKER=fzf|builtin).",
    )
    _add_shell_argument(p)
    add_session_arguments(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no confirmation line on stderr")
    # As for use: a usage error prints failing code, since `eval` of nothing would succeed.
    from awsv.shells.base import FAIL_ANY

    p.set_defaults(func=pick, no_prompt=False, stdout_on_usage_error=FAIL_ANY)
