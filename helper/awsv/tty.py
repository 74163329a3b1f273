"""Talking to the user on the terminal, not on stdout.

Stdout belongs to `eval "$(awsv use …)"` and to credential_process clients,
so every question goes to /dev/tty. Without a controlling terminal the caller
gets a clear error instead of a hang.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO

from awsv.errors import AwsvError, ExitCode, Interrupted

TTY_PATH = "/dev/tty"

#: `awsv use --no-prompt` sets this in its context's environment (a user may
#: export it too): no passphrase or MFA prompt, and no mfa_process, may run.
NO_PROMPT_VAR = "AWSV_NO_PROMPT"


class NoTerminal(AwsvError):
    """A prompt was needed but there is no terminal to ask on."""


class InputRequired(AwsvError):
    """A passphrase or MFA code was needed, and no-prompt mode forbids asking for it.

    Its own exit status (3) lets a caller that asked for no prompts (the
    prompt's refresh hook) say "renewing needs you" instead of "it failed".
    """

    exit_code = ExitCode.NEEDS_INPUT


def prompts_allowed(env: Mapping[str, str]) -> bool:
    """False when NO_PROMPT_VAR is set to anything but "" or "0"."""
    return env.get(NO_PROMPT_VAR, "") in ("", "0")


@contextmanager
def _open_tty() -> Iterator[tuple[IO[str], IO[str]]]:
    try:
        fd = os.open(TTY_PATH, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise NoTerminal("no terminal to ask on") from None
    # Two unbuffered-enough streams on one terminal: a tty is not seekable, so no "r+".
    reader = os.fdopen(fd, "r", encoding="utf-8", errors="replace")
    try:
        writer = os.fdopen(os.dup(fd), "w", encoding="utf-8", errors="replace")
        try:
            yield reader, writer
        finally:
            writer.close()
    finally:
        reader.close()


def has_terminal() -> bool:
    """Whether /dev/tty can be opened (cheap, used to choose an error message)."""
    try:
        os.close(os.open(TTY_PATH, os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def ask(prompt: str, *, secret: bool) -> str:
    """Ask on /dev/tty; with `secret`, echo is off. Ctrl-C or EOF raise Interrupted.

    The terminal's line is always ended before returning or raising: with
    echo off the user's Enter is not shown, and after Ctrl-C or Ctrl-D it
    never came, so the error message would otherwise start on the prompt's
    line (`MFA code for …: ^Cawsv: error: …`).
    """
    import termios

    with _open_tty() as (reader, writer):
        fd = reader.fileno()
        old = None
        if secret:
            try:
                old = termios.tcgetattr(fd)
                new = termios.tcgetattr(fd)
                new[3] &= ~termios.ECHO
                termios.tcsetattr(fd, termios.TCSAFLUSH, new)
            except termios.error:
                old = None
        line = ""
        try:
            writer.write(prompt)
            writer.flush()
            line = reader.readline()
        except KeyboardInterrupt:
            raise Interrupted("interrupted; nothing was changed") from None
        finally:
            if old is not None:
                termios.tcsetattr(fd, termios.TCSAFLUSH, old)
            if old is not None or not line.endswith("\n"):
                _end_line(writer)
        if not line:
            raise Interrupted("no answer (end of input); nothing was changed")
        return line.rstrip("\r\n")


def _end_line(writer: IO[str]) -> None:
    """A newline on the terminal; a terminal gone meanwhile is no reason to fail."""
    try:
        writer.write("\n")
        writer.flush()
    except OSError:
        pass


def confirm(question: str) -> bool:
    """A yes/no question on the terminal; anything but y/yes is no."""
    answer = ask(f"{question} [y/N] ", secret=False)
    return answer.strip().lower() in ("y", "yes")


def say(message: str) -> None:
    """One line to the terminal (not stdout, not stderr): part of a dialogue."""
    try:
        with _open_tty() as (_, writer):
            writer.write(message + "\n")
    except NoTerminal:
        pass
