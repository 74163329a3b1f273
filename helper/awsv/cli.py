"""The command line: parse arguments, run one command, turn errors into one line.

Nothing else lives here. Each subcommand's code is in `awsv.commands.*`;
this module only wires them and is the single place that prints errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from awsv import __version__
from awsv.errors import AwsvError, ExitCode


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in awsv's one-line format with exit code 2."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        if message.startswith("unrecognized arguments"):
            # Never echo stray arguments: a user may have pasted a secret there.
            count = len(message.split(":", 1)[1].split())
            message = f"{count} unexpected argument(s) (not shown, in case they hold a secret)"
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        print(f"awsv: hint: `{self.prog} --help` shows the usage", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)


def build_parser() -> argparse.ArgumentParser:
    from awsv.commands import importing, keys, listing
    from awsv.commands import clear, exec_, export, use, whoami
    from awsv.commands import doctor

    parser = _Parser(prog="awsv", description="A secure AWS credentials manager.")
    parser.add_argument("--version", action="version", version=f"awsv {__version__}")
    parser.add_argument("--backend", choices=("file", "keyring"),
                        help="vault backend (default: $AWSV_BACKEND, the settings file, or file)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    keys.register(sub)
    listing.register(sub)
    importing.register(sub)
    use.register(sub)
    exec_.register(sub)
    export.register(sub)
    whoami.register(sub)
    clear.register(sub)
    doctor.register(sub)
    for sub_parser in {id(p): p for p in sub.choices.values()}.values():
        # Also accept `awsv add --backend keyring prod`; the top-level value is the default.
        sub_parser.add_argument("--backend", choices=("file", "keyring"), default=argparse.SUPPRESS,
                                help="vault backend (default: $AWSV_BACKEND, the settings file, or file)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run awsv; returns the exit status (see `awsv.errors.ExitCode`)."""
    from awsv.context import Context

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    ctx = Context(backend_flag=args.backend)
    debug = os.environ.get("AWSV_DEBUG") == "1"
    try:
        return int(args.func(ctx, args) or 0)
    except AwsvError as err:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"awsv: error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"awsv: hint: {err.hint}", file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("awsv: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.ERROR

