"""Where the file vault's passphrase comes from, in a fixed order.

Order: AWSV_PASSPHRASE_COMMAND (a command whose stdout is the passphrase),
AWSV_FILE_PASSPHRASE / AWS_VAULT_FILE_PASSPHRASE (insecure, documented so),
then a hidden prompt on /dev/tty. The agent (a later layer) slots in first.
Never a dotfile, never argv. In no-prompt mode (`awsv use --no-prompt`,
AWSV_NO_PROMPT=1) the prompt is replaced by `tty.InputRequired` (exit 3).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Mapping

from awsv import tty
from awsv.errors import PassphraseUnavailable, VaultError
from awsv.secret_env import child_env

COMMAND_VARS = ("AWSV_PASSPHRASE_COMMAND",)
ENV_VARS = ("AWSV_FILE_PASSPHRASE", "AWS_VAULT_FILE_PASSPHRASE")

_SHELL_CHARS = set("|&;<>()$`\\\"'*?[]#~=%{}\n")
COMMAND_TIMEOUT = 120.0


def run_passphrase_command(command: str, env: Mapping[str, str]) -> str:
    """Run the user's passphrase command and return its stdout minus one trailing newline.

    Plain commands run without a shell (no second layer of parsing); a
    command using pipes or other shell syntax runs under /bin/sh. The
    command's stdin and stderr stay the user's, so a password manager may
    prompt. Its output is never shown in an error.
    """
    try:
        argv = shlex.split(command)
    except ValueError:
        argv = []
    needs_shell = not argv or any(ch in _SHELL_CHARS for ch in command.replace("'", "").replace('"', ""))
    args: list[str] | str = ["/bin/sh", "-c", command] if needs_shell else argv
    try:
        proc = subprocess.run(args, stdout=subprocess.PIPE, env=child_env(env),  # noqa: S603 - the user's own configured command
                              timeout=COMMAND_TIMEOUT, check=False)
    except FileNotFoundError:
        raise PassphraseUnavailable(
            f"passphrase command not found: {argv[0] if argv else command!r}",
            hint="check AWSV_PASSPHRASE_COMMAND",
        ) from None
    except subprocess.TimeoutExpired:
        raise PassphraseUnavailable(
            f"passphrase command did not finish within {COMMAND_TIMEOUT:.0f}s") from None
    except OSError as exc:
        raise PassphraseUnavailable(f"cannot run passphrase command: {exc.strerror}") from None
    if proc.returncode != 0:
        raise PassphraseUnavailable(
            f"passphrase command failed with exit status {proc.returncode}",
            hint="check AWSV_PASSPHRASE_COMMAND",
        )
    try:
        out = proc.stdout.decode("utf-8") if proc.stdout else ""
    except UnicodeDecodeError:
        raise PassphraseUnavailable("passphrase command printed something that is not UTF-8 text",
                                    hint="check AWSV_PASSPHRASE_COMMAND") from None
    if out.endswith("\n"):
        out = out[:-1]
        out = out.removesuffix("\r")
    if not out:
        raise PassphraseUnavailable("passphrase command printed nothing")
    return out


def make_provider(env: Mapping[str, str] = os.environ) -> Callable[[bool], str]:
    """A `passphrase_provider(creating)` for the file vault, following the order above."""

    def provide(creating: bool) -> str:
        for var in COMMAND_VARS:
            if env.get(var):
                return run_passphrase_command(env[var], env)
        for var in ENV_VARS:
            if env.get(var):
                return env[var]
        if not tty.prompts_allowed(env):
            raise tty.InputRequired("the vault passphrase is needed; not asking (no-prompt mode)")
        return prompt_passphrase(creating)

    return provide


def prompt_passphrase(creating: bool) -> str:
    """Ask on the terminal; a new vault asks twice and refuses an empty passphrase."""
    if not tty.has_terminal():
        raise PassphraseUnavailable(
            "the vault passphrase is needed but there is no terminal to ask on",
            hint="set AWSV_PASSPHRASE_COMMAND (e.g. a password manager lookup), or run in a terminal",
        )
    if not creating:
        return tty.ask("awsv vault passphrase: ", secret=True)
    for _ in range(3):
        first = tty.ask("New awsv vault passphrase: ", secret=True)
        if not first:
            tty.say("awsv: the passphrase must not be empty")
            continue
        second = tty.ask("Repeat the passphrase: ", secret=True)
        if first == second:
            return first
        tty.say("awsv: the two passphrases differ, try again")
    raise VaultError("no vault created: no matching passphrase entered")
