"""Where the file vault's passphrase comes from, in a fixed order.

Order: AWSV_PASSPHRASE_COMMAND (a command whose stdout is the passphrase),
AWSV_FILE_PASSPHRASE / AWS_VAULT_FILE_PASSPHRASE (insecure, documented so),
then a hidden prompt on /dev/tty. The agent (a later layer) slots in first.
Never a dotfile, never argv. In no-prompt mode (`awsv use --no-prompt`,
AWSV_NO_PROMPT=1) the prompt is replaced by `tty.InputRequired` (exit 3).

The passphrase comes back as a `Passphrase`: a str that also says which
source gave it, so a wrong one is explained by where to look (a stale
password-manager entry behind the command, an old value in a variable)
instead of "try again". Creating a vault says so, and where; a passphrase
shorter than MIN_LENGTH gets a warning with the reason: the vault file may be
copied and attacked offline, where nothing but the passphrase slows a guesser.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping

from awsv import tty
from awsv.errors import Interrupted, PassphraseUnavailable, VaultError
from awsv.user_command import CommandInterrupted, CommandOutputTooLarge, CommandTimedOut, spawn_bounded

COMMAND_VARS = ("AWSV_PASSPHRASE_COMMAND",)
ENV_VARS = ("AWSV_FILE_PASSPHRASE", "AWS_VAULT_FILE_PASSPHRASE")

#: Below this many characters a new vault's passphrase gets a warning (not a refusal).
MIN_LENGTH = 12

#: The last words of every wrong-passphrase hint: the crypto cannot tell these apart.
DAMAGED = "a damaged salt or header also shows up this way"


class Passphrase(str):
    """A passphrase that remembers its source; `repr` never shows the value."""

    source: str
    wrong_hint: str

    def __new__(cls, value: str, *, source: str, wrong_hint: str) -> Passphrase:
        self = super().__new__(cls, value)
        self.source = source
        self.wrong_hint = wrong_hint
        return self

    def __repr__(self) -> str:
        return f"Passphrase(<hidden>, source={self.source!r})"


def _from_command(value: str, var: str) -> Passphrase:
    return Passphrase(
        value,
        source=var,
        wrong_hint=(
            f"check what {var} prints: it must print this vault's passphrase alone (a stale "
            f"password-manager entry? another vault's?); {DAMAGED}"
        ),
    )


def _from_env(value: str, var: str) -> Passphrase:
    return Passphrase(
        value,
        source=var,
        wrong_hint=(
            f"check {var}: it holds an old or another vault's passphrase? unset it to be asked on "
            f"the terminal; {DAMAGED}"
        ),
    )


def _from_prompt(value: str) -> Passphrase:
    return Passphrase(value, source="the terminal", wrong_hint=f"try again; {DAMAGED}")


def _from_dialog(value: str, program: str) -> Passphrase:
    """A passphrase typed in a dialog (awsv.dialogs: no terminal, or AWSV_PROMPT=gui…)."""
    return Passphrase(value, source=f"the {program} dialog", wrong_hint=f"try again; {DAMAGED}")


def short_warning(length: int) -> str:
    """Why a passphrase of `length` characters is too short for a new vault."""
    return (
        f"this passphrase has only {length} character(s); use at least {MIN_LENGTH} (e.g. "
        "four random words): the vault file can be copied and attacked offline, where only "
        "the passphrase's length and randomness slow the guessing down"
    )


_SHELL_CHARS = set("|&;<>()$`\\\"'*?[]#~=%{}\n")
COMMAND_TIMEOUT = 120.0
#: A passphrase is a line; a command printing more than this is broken (README, "Limits").
MAX_PASSPHRASE_OUTPUT = 64 * 1024


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
        status, stdout = spawn_bounded(args, env=env, timeout=COMMAND_TIMEOUT, max_output=MAX_PASSPHRASE_OUTPUT)
    except FileNotFoundError:
        raise PassphraseUnavailable(
            f"passphrase command not found: {argv[0] if argv else command!r}",
            hint="check AWSV_PASSPHRASE_COMMAND",
        ) from None
    except CommandTimedOut:
        raise PassphraseUnavailable(f"passphrase command did not finish within {COMMAND_TIMEOUT:.0f}s") from None
    except CommandOutputTooLarge:
        raise PassphraseUnavailable(
            f"passphrase command printed more than {MAX_PASSPHRASE_OUTPUT} bytes",
            hint="check AWSV_PASSPHRASE_COMMAND: it must print only the passphrase",
        ) from None
    except CommandInterrupted:
        raise Interrupted("the passphrase command was interrupted") from None
    except OSError as exc:
        raise PassphraseUnavailable(f"cannot run passphrase command: {exc.strerror}") from None
    if status != 0:
        raise PassphraseUnavailable(
            f"passphrase command failed with exit status {status}",
            hint="check AWSV_PASSPHRASE_COMMAND",
        )
    try:
        out = stdout.decode("utf-8") if stdout else ""
    except UnicodeDecodeError:
        raise PassphraseUnavailable(
            "passphrase command printed something that is not UTF-8 text", hint="check AWSV_PASSPHRASE_COMMAND"
        ) from None
    if out.endswith("\n"):
        out = out[:-1]
        out = out.removesuffix("\r")
    if not out:
        raise PassphraseUnavailable("passphrase command printed nothing")
    return out


def make_provider(env: Mapping[str, str] = os.environ) -> Callable[[bool], str]:
    """A `passphrase_provider(creating)` for the file vault, following the order above."""

    def provide(creating: bool) -> str:
        passphrase = _provide(creating)
        if creating and passphrase.source != "the terminal" and 0 < len(passphrase) < MIN_LENGTH:
            import sys

            print(
                f"awsv: warning: creating the vault with the passphrase from {passphrase.source}; "
                f"{short_warning(len(passphrase))}",
                file=sys.stderr,
            )
        return passphrase

    def _provide(creating: bool) -> Passphrase:
        for var in COMMAND_VARS:
            if env.get(var):
                return _from_command(run_passphrase_command(env[var], env), var)
        for var in ENV_VARS:
            if env.get(var):
                return _from_env(env[var], var)
        if not tty.prompts_allowed(env):
            raise tty.InputRequired("the vault passphrase is needed; not asking (no-prompt mode)")
        from awsv import dialogs

        way = dialogs.choose_way(env, has_terminal=tty.has_terminal())
        if way == "none":
            raise tty.InputRequired("the vault passphrase is needed; not asking (prompts are off)")
        if isinstance(way, dialogs.Dialog):
            return _from_dialog(dialogs.ask_passphrase(way, creating=creating, env=env), way.program)
        return _from_prompt(prompt_passphrase(creating, where=_vault_path(env) if creating else None))

    return provide


def _vault_path(env: Mapping[str, str]) -> str | None:
    """Where the file vault of `env` lives (for the "creating a vault at" line)."""
    try:
        from awsv import paths
        from awsv.vault.file import VAULT_FILE

        return str(paths.data_dir(env) / VAULT_FILE)
    except Exception:  # noqa: BLE001 - only a message depends on it
        return None


def prompt_passphrase(creating: bool, *, where: str | None = None) -> str:
    """Ask on the terminal; a new vault (at `where`) asks twice, refuses an empty passphrase
    and has a short one confirmed after saying why it is weak."""
    if not tty.has_terminal():
        raise PassphraseUnavailable(
            "the vault passphrase is needed but there is no terminal to ask on",
            hint="set AWSV_PASSPHRASE_COMMAND (e.g. a password manager lookup), run in a terminal, "
            "or install zenity or kdialog for a dialog on the desktop",
        )
    if not creating:
        return tty.ask("awsv vault passphrase: ", secret=True)
    tty.say(
        f"awsv: creating a new vault at {where or 'the default location'}; choose its "
        "passphrase (it cannot be recovered)"
    )
    for _ in range(3):
        first = tty.ask("New awsv vault passphrase: ", secret=True)
        if not first:
            tty.say("awsv: the passphrase must not be empty")
            continue
        if len(first) < MIN_LENGTH:
            tty.say(f"awsv: warning: {short_warning(len(first))}")
            if not tty.confirm("Use this short passphrase anyway?"):
                continue
        second = tty.ask("Repeat the passphrase: ", secret=True)
        if first == second:
            return first
        tty.say("awsv: the two passphrases differ, try again")
    raise VaultError("no vault created: no matching passphrase entered")
