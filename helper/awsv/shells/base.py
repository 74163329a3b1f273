"""What every shell dialect shares: the change map, name checks, value encoding.

A change map says "set these variables, unset those" and knows nothing about
shells; each dialect (bash.py, zsh.py, fish.py) only decides how one value is
quoted and how one statement looks. Keeping the contract here means there is
exactly one place that decides which names and values are acceptable, so no
dialect can quietly accept something another rejects.

Every dialect's output is printable ASCII, one statement per line: control
characters, non-ASCII text and raw (non-UTF-8) bytes are written as escapes.
That makes the code independent of the locale of the shell that evaluates it
and safe to show in a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TYPE_CHECKING = False  # typing costs milliseconds on the hot path; annotations are strings anyway
if TYPE_CHECKING:
    from typing import ClassVar

Changes = Mapping[str, "str | None"]
"""Variable name -> value to set and export, or None to unset."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def validate_name(name: str) -> str:
    """Return `name` unchanged, or raise ValueError if it is not a portable variable name.

    Names come from awsv's own code, never from the user, so a bad one is a
    programming error (ValueError), not an AwsvError.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"not a valid environment variable name: {name!r}")
    return name


def encode_value(value: str) -> bytes:
    """Return the bytes an environment variable holding `value` will contain.

    Python keeps undecodable environment bytes as lone surrogates
    (PEP 383 "surrogateescape"); they are turned back into the original bytes
    so such values round-trip exactly. Raises ValueError for a NUL (the
    environment cannot hold one) and for any other lone surrogate (no byte
    sequence corresponds to it). The message never contains the value: it
    may be a secret.
    """
    if not isinstance(value, str):
        raise TypeError(f"variable value must be str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError("value contains a NUL character, which environment variables cannot hold")
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ValueError("value contains a lone surrogate that is not an escaped byte") from None


FAIL_ANY = "false\n"
"""Failing code valid in every supported shell, for failures before the shell is known."""

_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+\Z")


def is_bare_word(value: str) -> bool:
    """True when `value` can stand unquoted in every supported shell.

    A leading `=` (zsh's `=cmd` path expansion) or `%` (fish's `%self`) is
    special even in this alphabet, so such values are quoted too.
    """
    return bool(_BARE.match(value)) and value[0] not in "=%"


def is_printable_ascii(data: bytes) -> bool:
    """True when every byte is a printable ASCII character (space to tilde)."""
    return all(0x20 <= b <= 0x7E for b in data)


class Shell:
    """One shell dialect. Subclasses define `name`, `quote`, `set_line`, `unset_line`.

    Instances hold no state; `awsv.shells.get_shell` hands out shared ones.
    """

    name: ClassVar[str]
    #: The interactive integration (wrapper, badge, completion, refresh) under the
    #: repository's `shell/` directory, loaded by `awsv shell-init NAME`; None if none.
    plugin: ClassVar[str | None] = None

    def quote(self, value: str) -> str:
        """Return `value` as one shell word that evaluates to exactly its bytes.

        The result is printable ASCII on a single line. Raises ValueError for
        a value no environment variable can hold (see `encode_value`).
        """
        raise NotImplementedError

    def set_line(self, name: str, value: str) -> str:
        """One statement (no newline) that sets and exports `name` to `value`."""
        raise NotImplementedError

    def unset_line(self, name: str) -> str:
        """One statement (no newline) that unsets `name`; harmless if it is not set."""
        raise NotImplementedError

    def apply(self, changes: Changes) -> str:
        """Return code that makes the environment match `changes`.

        Unsets come first, then sets, each group sorted by name, one statement
        per line, with a trailing newline (empty string for no changes). The
        order does not depend on the mapping's insertion order, so the same
        changes always produce the same code. Raises ValueError for a bad name
        or an impossible value, naming the variable but never showing the value.
        """
        unsets: list[str] = []
        sets: list[tuple[str, str]] = []
        for name, value in changes.items():
            validate_name(name)
            if value is None:
                unsets.append(name)
            else:
                sets.append((name, value))
        lines = [self.unset_line(name) for name in sorted(unsets)]
        for name, value in sorted(sets):
            try:
                lines.append(self.set_line(name, value))
            except ValueError as exc:
                raise ValueError(f"cannot set {name}: {exc}") from None
        return "".join(line + "\n" for line in lines)

    def fail(self, status: int) -> str:
        """Code whose only effect is a non-zero status: what a failed `use`/`off` prints.

        `eval "$(awsv use P)" && deploy` must stop when awsv failed, and `eval`
        of empty output succeeds, so a failure prints this instead of nothing.
        It never exits or returns: under `eval` at top level, in a function, or
        in fish's `| source` inside a function, `exit`/`return` would end the
        shell or the caller. This default, `false`, is valid in every
        supported shell (status 1); dialects may keep the real status.
        """
        return FAIL_ANY

    def comment(self, text: str) -> str:
        """Return `text` as comment lines (one `# ` line per line of text).

        Anything that is not printable ASCII becomes `?`, so a comment can
        never smuggle a newline (and with it a command) or terminal escapes.
        """
        out = []
        for line in text.split("\n"):
            safe = "".join(c if " " <= c <= "~" else "?" for c in line)
            out.append(f"# {safe}".rstrip() + "\n")
        return "".join(out)
