"""The command line: parse arguments, run one command, turn errors into one line.

Nothing else lives here. Each subcommand's code is in `awsv.commands.*`,
listed in `awsv.commands.COMMANDS`; this module only wires them and is the
single place that prints errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, cast

from awsv import __version__
from awsv.errors import AwsvError, ExitCode


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in awsv's one-line format with exit code 2."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            # Never echo stray arguments: a user may have pasted a secret there.
            count = len(message.split(":", 1)[1].split())
            message = f"{count} unexpected argument(s) (not shown, in case they hold a secret)"
        # One prefix for every error, as AwsvError's: `awsv: error: <command>: …`.
        command = self.prog.removeprefix("awsv").strip()
        print(f"awsv: error: {command + ': ' if command else ''}{message}", file=sys.stderr)
        print(f"awsv: hint: `{self.prog} --help` shows the usage", file=sys.stderr)
        _failing_stdout(self.get_default("stdout_on_usage_error"))
        raise SystemExit(ExitCode.USAGE)


def _failing_stdout(code: str | None) -> None:
    """Print the failing code a command whose stdout is evaluated (use, off) asks for.

    For errors found before the command itself runs: `eval` of nothing would succeed.
    """
    if code and not sys.stdout.isatty():
        sys.stdout.write(code)
        sys.stdout.flush()


#: The module that registers each command on the hot path. `main` imports only
#: that module when one of these runs, so `awsv use` loads neither the other
#: commands nor what they import. Any command not listed here (or --help)
#: builds the full parser below, so a new command works without an entry.
FAST_COMMANDS = {
    "use": "use",
    "off": "use",
    "exec": "exec_",
    "export": "export",
    "list": "list_",
    "ls": "list_",
    "unlock": "unlock",
    "lock": "unlock",
    "shell-init": "shell_init",
    "pick": "pick",
}


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`, when it shows without parsing; else None."""
    words = iter(argv)
    for word in words:
        if word in ("--backend", "--prompt"):
            next(words, None)
        elif word.startswith(("--backend=", "--prompt=")):
            continue
        elif word.startswith("-"):
            return None  # --help, --version or a mistake: the full parser handles it
        else:
            return word
    return None


def _new_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    parser = _Parser(prog="awsv", description="A secure AWS credentials manager.")
    parser.add_argument("--version", action="version", version=f"awsv {__version__}")
    from awsv.vault import BACKENDS

    parser.add_argument(
        "--backend", choices=BACKENDS, help="vault backend (default: $AWSV_BACKEND, the settings file, or file)"
    )
    parser.add_argument("--prompt", metavar="DRIVER", help=_PROMPT_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # Commands register on ArgumentParser; every parser made here is in fact a _Parser.
    return parser, cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub)


def _finish(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from awsv.vault import BACKENDS

    for sub_parser in _all_parsers(sub):
        # Also accept `awsv add --backend keyring prod`; the top-level value is the default.
        sub_parser.add_argument(
            "--backend",
            choices=BACKENDS,
            default=argparse.SUPPRESS,
            help="vault backend (default: $AWSV_BACKEND, the settings file, or file)",
        )
        # aws-vault's global --prompt, also after the command (`awsv exec --prompt terminal P`).
        sub_parser.add_argument("--prompt", metavar="DRIVER", default=argparse.SUPPRESS, help=_PROMPT_HELP)


def _all_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> list[argparse.ArgumentParser]:
    """Every command's parser, nested verbs too (`awsv sso login --backend keyring`), once each."""
    found: dict[int, argparse.ArgumentParser] = {}
    pending = list(sub.choices.values())
    while pending:
        parser = pending.pop()
        if id(parser) in found:
            continue
        found[id(parser)] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
    return list(found.values())


#: aws-vault's --prompt, accepted so its recipes run unchanged (awsv.prompt_driver).
_PROMPT_HELP = (
    "how to ask for the passphrase and MFA codes: auto (default: the terminal, else a "
    "dialog), terminal, gui, zenity, kdialog, osascript, ykman, none; also $AWSV_PROMPT "
    "or $AWS_VAULT_PROMPT (aws-vault's pass is accepted, not available)"
)


def _fast_parser(command: str) -> argparse.ArgumentParser | None:
    """A parser knowing only `command` (see FAST_COMMANDS), or None for the full one."""
    module = FAST_COMMANDS.get(command)
    if module is None:
        return None
    import importlib

    parser, sub = _new_parser()
    importlib.import_module(f"awsv.commands.{module}").register(sub)
    _finish(sub)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The parser knowing every command of `awsv.commands.COMMANDS`, in that order."""
    import importlib

    from awsv.commands import COMMANDS

    parser, sub = _new_parser()
    for module in COMMANDS:
        importlib.import_module(f"awsv.commands.{module}").register(sub)
    _finish(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run awsv; returns the exit status (see `awsv.errors.ExitCode`)."""
    from awsv.context import Context

    words = sys.argv[1:] if argv is None else list(argv)
    command = _command_word(words)
    parser = (_fast_parser(command) if command else None) or build_parser()
    args = parser.parse_args(words)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    ctx = Context(backend_flag=args.backend)
    debug = os.environ.get("AWSV_DEBUG") == "1"
    try:
        from awsv import prompt_driver  # tiny: no imports of its own

        try:
            prompt_driver.set_flag(getattr(args, "prompt", None), ctx.env)  # refuses unknown names at once
        except AwsvError:
            _failing_stdout(getattr(args, "stdout_on_usage_error", None))
            raise
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
