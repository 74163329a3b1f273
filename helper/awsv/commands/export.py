"""`awsv export PROFILE --format …`: a profile's credentials as data for other tools.

Formats:
- `env`: `NAME=value` lines (docker `--env-file`, systemd `EnvironmentFile`);
- `export`: shell code for `--shell`, the same as `awsv use` prints;
- `json` (aws-vault's name) and `credential-process`: the Version 1 JSON
  document the AWS CLI and SDKs read from a `credential_process` command
  (also what `awsv exec -j` prints), so aws-vault's recipe
  `credential_process = awsv export --format=json P` works unchanged;
- `env-json`: the variables as one JSON object;
- `ini`: a `[PROFILE]` section for a credentials file.

Nothing is written to stdout unless the whole document is ready.
"""

from __future__ import annotations

import argparse
import json

from awsv.commands.use import add_session_arguments
from awsv.context import Context
from awsv.credentials import Credentials
from awsv.delivery.process import credential_process_json
from awsv.delivery.resolve import resolve_credentials
from awsv.delivery.shell import changes_for, render
from awsv.environment import set_values
from awsv.errors import AwsvError

FORMATS = ("env", "export", "json", "env-json", "ini", "credential-process")


def _env_lines(values: dict[str, str]) -> str:
    for name, value in values.items():
        if "\n" in value or "\r" in value or "\0" in value:
            raise AwsvError(f"cannot write {name} as an env line: its value spans lines")
    return "".join(f"{name}={value}\n" for name, value in values.items())


def _ini(profile: str, credentials: Credentials) -> str:
    lines = [
        f"[{profile}]",
        f"aws_access_key_id = {credentials.access_key_id}",
        f"aws_secret_access_key = {credentials.secret_access_key}",
    ]
    if credentials.session_token:
        lines.append(f"aws_session_token = {credentials.session_token}")
    return "\n".join(lines) + "\n"


def export(ctx: Context, args: argparse.Namespace) -> int:
    resolved = resolve_credentials(ctx, args.profile, args)
    creds = resolved.credentials
    changes = changes_for(args.profile, resolved)
    fmt = args.format
    if fmt in ("credential-process", "json"):
        out = credential_process_json(creds)
    elif fmt == "env":
        out = _env_lines(set_values(changes))
    elif fmt == "export":
        out = render(ctx, args.shell, changes)
    elif fmt == "env-json":
        out = json.dumps(set_values(changes), indent=2) + "\n"
    else:
        out = _ini(args.profile, creds)
    ctx.stdout.write(out)
    ctx.stdout.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="print a profile's temporary credentials in a chosen format",
        description="Print temporary credentials for PROFILE as env lines, shell "
        "code, a JSON object of the variables (env-json), a credentials-file section, "
        "or the credential_process JSON (json, or credential-process).",
    )
    p.add_argument("profile")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="env",  # no -f: that is --force everywhere
        help="output format (default: env)",
    )
    p.add_argument(
        "--shell", "-s", metavar="SHELL", help="shell for --format export: bash, zsh or fish (default: detected)"
    )
    add_session_arguments(p)
    p.set_defaults(func=export)
