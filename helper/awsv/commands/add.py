"""`awsv add` and `awsv remove`: long-term keys into and out of the vault.

Secrets come from a hidden prompt, the environment (`--env`) or stdin —
never from argv, where `ps` and shell history would see them.
"""

from __future__ import annotations

import argparse
import re

from awsv import tty
from awsv.atomic import atomic_write_text
from awsv.context import Context
from awsv.errors import AwsvError, UsageError
from awsv.names import validate_profile_name
from awsv.paths import aws_config_file
from awsv.safe_read import read_text_file
from awsv.vault.items import LongTermKey, key_item_name

_KEY_ID = re.compile(r"[A-Z0-9]{16,128}\Z")
_SECRET = re.compile(r"\S{16,128}\Z")


class BadKey(AwsvError):
    """The access key given to `add` does not look like one."""


def check_key(key_id: str, secret: str) -> LongTermKey:
    """Validate the shape of a long-term key; the message never echoes the secret."""
    key_id, secret = key_id.strip(), secret.strip()
    if not key_id:
        raise BadKey("no Access Key ID given")
    if not _KEY_ID.match(key_id):
        raise BadKey("the Access Key ID does not look like one (16-128 capital letters and digits)")
    if key_id.startswith("ASIA"):
        raise BadKey(
            "this is a temporary key (ASIA…); awsv stores long-term keys (AKIA…)",
            hint="temporary credentials come from `awsv use` / `awsv exec`",
        )
    if not secret:
        raise BadKey("no Secret Access Key given")
    if not _SECRET.match(secret):
        raise BadKey("the Secret Access Key does not look like one (16-128 non-space characters)")
    return LongTermKey(key_id, secret)


def _read_key(ctx: Context, args: argparse.Namespace) -> LongTermKey:
    if args.env:
        return check_key(ctx.env.get("AWS_ACCESS_KEY_ID", ""), ctx.env.get("AWS_SECRET_ACCESS_KEY", ""))
    stdin_is_tty = ctx.stdin.isatty() if hasattr(ctx.stdin, "isatty") else False
    if stdin_is_tty and tty.has_terminal():
        key_id = tty.ask("Access Key ID: ", secret=False)
        secret = tty.ask("Secret Access Key: ", secret=True)
        return check_key(key_id, secret)
    lines = ctx.stdin.read().splitlines()
    if len(lines) < 2:
        raise UsageError(
            "expected the Access Key ID and the Secret Access Key on two lines of stdin",
            hint="or run `awsv add` in a terminal to be prompted, or use --env",
        )
    return check_key(lines[0], lines[1])


def add(ctx: Context, args: argparse.Namespace) -> int:
    profile = validate_profile_name(args.profile)
    key = _read_key(ctx, args)
    vault = ctx.vault
    name = key_item_name(profile)
    if vault.get(name) is not None and not args.force:
        if not tty.has_terminal():
            raise AwsvError(f"a key for {profile!r} is already stored", hint="use --force to replace it")
        if not tty.confirm(f"Replace the key stored for {profile!r}?"):
            ctx.info("nothing changed")
            return 1
    vault.set(name, key.to_item())
    ctx.info(f"stored the key for {profile!r} in the {vault.backend_name} vault")
    if args.add_config:
        _add_config_section(ctx, profile)
    elif profile not in ctx.config:
        ctx.info(
            f"hint: {profile!r} has no section in {aws_config_file(ctx.env)}; "
            "add one with --add-config to set a region or MFA device"
        )
    return 0


def _add_config_section(ctx: Context, profile: str) -> None:
    """Append `[profile NAME]` to the AWS config unless it already has that profile."""
    if profile in ctx.config:
        return
    path = aws_config_file(ctx.env)
    try:
        text = read_text_file(path, what="AWS config")
    except FileNotFoundError:
        text = ""
    header = "[default]" if profile == "default" else f"[profile {profile}]"
    if text and not text.endswith("\n"):
        text += "\n"
    text += ("\n" if text else "") + header + "\n"
    atomic_write_text(path, text)
    ctx.info(f"added {header} to {path}")


def remove(ctx: Context, args: argparse.Namespace) -> int:
    profile = validate_profile_name(args.profile)
    vault = ctx.vault
    name = key_item_name(profile)
    if vault.get(name) is None:
        raise AwsvError(f"no key stored for {profile!r}", hint="`awsv list` shows what is stored")
    if not args.force:
        if not tty.has_terminal():
            raise AwsvError(f"refusing to delete the key for {profile!r} without confirmation", hint="use --force")
        if not tty.confirm(f"Delete the key stored for {profile!r}? This cannot be undone."):
            ctx.info("nothing changed")
            return 1
    vault.delete(name)
    ctx.info(f"deleted the key for {profile!r}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "add",
        help="store a profile's long-term access key in the vault",
        description="Store a long-term access key. The key is read from a hidden "
        "prompt, from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (--env), or from two "
        "lines on stdin; never from the command line.",
    )
    p.add_argument("profile")
    p.add_argument(
        "--env", action="store_true", help="read AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment"
    )
    p.add_argument(
        "--add-config", action="store_true", help="add a [profile NAME] section to the AWS config if there is none"
    )
    p.add_argument("--force", "-f", action="store_true", help="replace an existing key without asking")
    p.set_defaults(func=add)

    p = sub.add_parser(
        "remove",
        aliases=["rm"],
        help="delete a profile's key from the vault",
        description="Delete the long-term access key stored for PROFILE from the "
        "vault, after a confirmation on the terminal (--force: without asking). "
        "The key itself stays valid at AWS; `awsv rotate` replaces it there.",
    )
    p.add_argument("profile")
    p.add_argument("--force", "-f", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=remove)
