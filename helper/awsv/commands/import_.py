"""`awsv import`: move plaintext keys from ~/.aws/credentials into the vault.

The plaintext file is the thing awsv exists to end, but it is also the
user's only copy of their keys: nothing is removed from it unless every key
was stored and read back identical, and the rewrite is atomic and keeps every
non-secret line (comments, region, other settings).
"""

from __future__ import annotations

import argparse
import configparser
import json
from dataclasses import dataclass, field
from pathlib import Path

from awsv.atomic import atomic_write_text
from awsv.commands.add import BadKey, check_key
from awsv.context import Context
from awsv.errors import AwsvError, ConfigError, VaultError
from awsv.names import is_valid_profile_name
from awsv.paths import aws_credentials_file
from awsv.safe_read import read_text_file
from awsv.vault.items import LongTermKey, key_item_name

SECRET_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token")


@dataclass
class ImportReport:
    stored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def read_credentials(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(default_section="\0none\0", interpolation=None)
    try:
        text = read_text_file(path, what="credentials file")
    except FileNotFoundError:
        raise ConfigError(f"no credentials file at {path}", hint="use --file PATH") from None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        # configparser quotes the offending line, which may hold a secret: say only where.
        line = getattr(exc, "lineno", None) or (
            exc.errors[0][0] if isinstance(exc, configparser.ParsingError) and exc.errors else None
        )
        where = f", line {line}" if line else ""
        raise ConfigError(f"cannot parse {path}{where}") from None
    return parser


def import_keys(ctx: Context, args: argparse.Namespace) -> int:
    path = Path(args.file).expanduser() if args.file else aws_credentials_file(ctx.env)
    parser = read_credentials(path)
    report = ImportReport()
    to_store: dict[str, LongTermKey] = {}
    for section in parser.sections():
        values = dict(parser.items(section))
        if "aws_access_key_id" not in values and "aws_secret_access_key" not in values:
            continue
        if not is_valid_profile_name(section):
            report.skipped[section] = "profile name not allowed"
            continue
        if values.get("aws_session_token") or values.get("aws_security_token"):
            report.skipped[section] = "temporary credentials (session token); not worth storing"
            continue
        try:
            to_store[section] = check_key(values.get("aws_access_key_id", ""), values.get("aws_secret_access_key", ""))
        except BadKey as exc:
            report.skipped[section] = exc.message
    vault = ctx.vault
    for profile, key in to_store.items():
        name = key_item_name(profile)
        existing = vault.get(name)
        if existing is not None and LongTermKey.from_item(existing) == key:
            report.unchanged.append(profile)
            continue
        if existing is not None and not args.force:
            report.skipped[profile] = "a different key is already stored (use --force to replace it)"
            continue
        vault.set(name, key.to_item())
        report.stored.append(profile)
    # Read everything back before touching the plaintext file.
    verified = [
        p
        for p in [*report.stored, *report.unchanged]
        if (item := vault.get(key_item_name(p))) is not None and LongTermKey.from_item(item) == to_store[p]
    ]
    if len(verified) != len(report.stored) + len(report.unchanged):
        raise VaultError(f"a key read back from the vault differs from what was stored; {path} was not changed")
    _print_report(ctx, report, path, args.json)
    if args.delete_plaintext:
        if report.skipped:
            raise AwsvError(
                f"not removing secrets from {path}: {len(report.skipped)} profile(s) were not imported",
                hint="fix or remove those sections, then run the import again",
            )
        removed = remove_secrets(path, set(verified))
        ctx.info(f"removed the plaintext keys of {removed} profile(s) from {path}")
    elif verified:
        ctx.info(
            f"hint: the keys are still in plaintext in {path}; run `awsv import --delete-plaintext` to remove them"
        )
    return 0


def _print_report(ctx: Context, report: ImportReport, path: Path, as_json: bool) -> None:
    if as_json:
        json.dump(
            {"file": str(path), "stored": report.stored, "unchanged": report.unchanged, "skipped": report.skipped},
            ctx.stdout,
            indent=2,
        )
        print(file=ctx.stdout)
        return
    for profile in report.stored:
        print(f"stored     {profile}", file=ctx.stdout)
    for profile in report.unchanged:
        print(f"unchanged  {profile} (already in the vault)", file=ctx.stdout)
    for profile, why in report.skipped.items():
        print(f"skipped    {profile}: {why}", file=ctx.stdout)
    if not (report.stored or report.unchanged or report.skipped):
        ctx.info(f"no keys found in {path}")


def remove_secrets(path: Path, profiles: set[str]) -> int:
    """Rewrite `path` without the secret lines of `profiles`; other lines stay as they were.

    A section left with no settings is dropped with its header. Returns how
    many sections lost their secrets.
    """
    text = read_text_file(path, what="credentials file")
    out: list[str] = []
    section: list[str] = []  # lines of the current section, header first
    current: str | None = None
    touched = 0

    def flush() -> None:
        nonlocal touched
        if current in profiles:
            kept = [ln for ln in section[1:] if _key_of(ln) not in SECRET_KEYS]
            touched += 1
            if any(_key_of(ln) for ln in kept):
                out.extend([section[0], *kept])
            else:  # nothing but comments/blank lines left: drop the header, keep the comments
                out.extend(ln for ln in kept if ln.strip())
        else:
            out.extend(section)

    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            flush()
            section = [line]
            current = stripped[1:-1].strip()
        else:
            section.append(line)
    flush()
    atomic_write_text(path, "".join(out))
    return touched


def _key_of(line: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped[0] in "#;" or "=" not in stripped:
        return None
    return stripped.split("=", 1)[0].strip().lower()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        help="move keys from ~/.aws/credentials into the vault",
        description="Store every long-term key of the AWS shared credentials file "
        "in the vault. With --delete-plaintext the file is then rewritten without "
        "its secrets (comments and other settings stay), and only if every key was "
        "stored and read back intact.",
    )
    p.add_argument(
        "--file",
        metavar="PATH",
        help="credentials file to read (default: $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)",
    )
    p.add_argument(
        "--delete-plaintext",
        action="store_true",
        help="afterwards, rewrite the file without the secrets (only if all were stored)",
    )
    p.add_argument("--force", "-f", action="store_true", help="replace keys already stored under the same profile")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=import_keys)
