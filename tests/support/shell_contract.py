"""The contract every shell of `awsv.shells` keeps, evaluated by the real shell.

No golden strings: each test runs `apply()`'s output through the shell's own
`eval` (bash, zsh) or `source` (fish), reads the variables back both from the
shell (`printf '%s\\0'`) and from a child process (`env -0`, proving they are
exported), and compares bytes. A canary file in the working directory proves
that no command substitution, glob or command separator in a value ever ran.

A shell's test file subclasses `ShellContract` and gives it the shell's
`Harness` (how to start its binary without rc files, how to evaluate awsv's
output, how to read a variable back) and the options a user may have set in
that shell:

    class TestBashContract(ShellContract):
        harness = BASH
        user_options = ("set -o posix", ...)

Harnesses live here, not in the test files, because the hardening suite's
fuzzer (tests/hardening/test_shell_fuzz.py) evaluates in every supported
shell too. bash and zsh share the POSIX dialect; a shell with its own syntax
adds a `Dialect`. Every real shell must be installed: a missing one fails the
test (scripts/test installs them), it is never skipped.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from awsv.shells import Changes, Shell, get_shell

HELPER = Path(__file__).resolve().parent.parent.parent / "helper"
CANARY = "pwned"

# Values chosen to break naive quoting in at least one of the three shells.
NASTY: dict[str, str] = {
    "empty": "",
    "plain": "us-east-1",
    "space": "two words",
    "spaces-edge": "  padded  ",
    "single-quote": "it's",
    "only-quote": "'",
    "double-quote": 'say "hi"',
    "backslash": "a\\b\\",
    "backslash-quote": "\\'",
    "dollar-home": "$HOME",
    "dollar-brace": "${HOME}",
    "backticks": f"`touch {CANARY}`",
    "cmd-subst": f"$(touch {CANARY})",
    "fish-cmd-subst": f"(touch {CANARY})",
    "quote-breakout": f"'; touch {CANARY}; '",
    "dquote-breakout": f'"; touch {CANARY}; "',
    "ansi-c-breakout": f"$'\\''; touch {CANARY} #",
    "semicolon": f"; touch {CANARY}",
    "and-and": f"x && touch {CANARY}",
    "pipe": f"x | touch {CANARY}",
    "redirect": f"> {CANARY}",
    "bang": "hello!",
    "history": "!!",
    "star": "*",
    "question": "?",
    "brace": f"{{touch,{CANARY}}}",
    "tilde": "~",
    "tilde-user": "~root/x",
    "equals-lead": "=ls",
    "percent-lead": "%self",
    "percent": "100%",
    "hash-lead": "#not a comment",
    "hash": "a#b",
    "dash-lead": "-e",
    "double-dash": "--",
    "option-like": "--help",
    "newline": "line1\nline2",
    "trailing-newlines": "x\n\n",
    "tab": "a\tb",
    "carriage-return": "a\rb",
    "ansi-escape": "\x1b[31mred\x1b[0m",
    "bell-del": "\x07\x7f",
    "all-controls": "".join(chr(c) for c in range(1, 32)),
    "hex-digits-after-escape": "\x01" + "23\x7fab",
    "latin": "café",
    "emoji": "🔐 vault",
    "rtl-mark": "abc\u200fdef",
    "c1-control": "\u0085\u009b",
    "private-use": "\uf680\ue000",
    "raw-bytes": b"\xff\xfe\x80 not utf-8 \xc3".decode("utf-8", "surrogateescape"),
    "long-10k": ("aB3$'\"\\\n" * 1250)[:10_000],
    "secret-like": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+/=",
}

BAD_NAMES = [
    "",
    "1ABC",
    "A-B",
    "A B",
    "A;B",
    "A=B",
    "$A",
    "é",
    "A\n",
    "A\0",
    "A.B",
    "-A",
]


def need(program: str) -> str:
    """Absolute path of `program`; fails (never skips) when it is missing."""
    path = shutil.which(program)
    assert path, f"{program} is not installed; install it (scripts/test installs it) instead of skipping"
    return path


# -- how a shell evaluates awsv's output and shows a variable ------------------------


class Dialect:
    """The syntax of one family of shells, for the two things a test needs."""

    def script(self, prelude: str, after: str) -> str:
        """Shell code: `prelude`, a failing command, then evaluate the code in the file
        named by the first argument the way the wrapper does (exit 99 if that fails:
        the evaluated code must report success even after a failure), then `after`."""
        raise NotImplementedError

    def read_line(self, name: str) -> str:
        """A line printing `set\\0VALUE\\0` if variable `name` is set, else `unset\\0\\0`."""
        raise NotImplementedError


class PosixDialect(Dialect):
    """bash, zsh: `eval "$(...)"` and `${NAME+set}`."""

    def script(self, prelude: str, after: str) -> str:
        return prelude + '\nfalse\neval "$(command cat "$1")" || exit 99\n' + after

    def read_line(self, name: str) -> str:
        return f'if [ "${{{name}+set}}" = set ]; then printf "set\\0%s\\0" "${name}"; else printf "unset\\0\\0"; fi'


class FishDialect(Dialect):
    """fish: `... | source` and `set -q NAME`."""

    def script(self, prelude: str, after: str) -> str:
        return prelude + "\nfalse\ncommand cat $argv[1] | source; or exit 99\n" + after

    def read_line(self, name: str) -> str:
        return f"if set -q {name}; printf 'set\\0%s\\0' \"${name}\"; else; printf 'unset\\0\\0'; end"


POSIX, FISH_SYNTAX = PosixDialect(), FishDialect()


@dataclass(frozen=True)
class Harness:
    """How tests run one shell: its name in `awsv.shells`, its argv up to `-c`
    (no rc files), the argv that follows the script (so `$1` is the code file),
    and its dialect."""

    name: str
    argv: tuple[str, ...]
    dialect: Dialect
    script_name: tuple[str, ...] = ()

    def command(self, script: str, *args: str) -> list[str]:
        return [need(self.argv[0]), *self.argv[1:], script, *self.script_name, *args]


BASH = Harness("bash", ("bash", "--noprofile", "--norc", "-c"), POSIX, ("bash",))
ZSH = Harness("zsh", ("zsh", "-f", "-c"), POSIX, ("zsh",))
FISH = Harness("fish", ("fish", "--no-config", "-c"), FISH_SYNTAX)
HARNESSES: dict[str, Harness] = {h.name: h for h in (BASH, ZSH, FISH)}


def evaluate(
    harness: Harness,
    code: str,
    names: list[str],
    cwd: Path,
    preset: Mapping[str, str] | None = None,
    locale: str = "C.UTF-8",
    prelude: str = "",
) -> tuple[dict[str, bytes | None], dict[bytes, bytes]]:
    """Evaluate `code` in the real shell started with `preset` in its environment.

    Returns (what the shell sees, what a child process sees) per variable;
    None means unset.
    """
    code_file = cwd / "code.sh"
    code_file.write_text(code, encoding="ascii")  # output must be pure ASCII
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "XDG_CONFIG_HOME": str(cwd / "config"),
        "XDG_DATA_HOME": str(cwd / "data"),
        "LC_ALL": locale,
    }
    env.update(preset or {})
    after = "\n".join([*(harness.dialect.read_line(n) for n in names), "command env -0"]) + "\n"
    proc = subprocess.run(
        harness.command(harness.dialect.script(prelude, after), str(code_file)),
        cwd=cwd,
        env=env,
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 0, f"{harness.name} failed ({proc.returncode}): {proc.stderr!r}"
    assert proc.stderr == b"", f"{harness.name} complained: {proc.stderr!r}"
    # Values cannot hold NUL, so NUL alone frames everything: 2 fields per name, then env -0.
    fields = proc.stdout.split(b"\0")
    assert fields[-1] == b"" and len(fields) > 2 * len(names), proc.stdout[:500]
    env_part = fields[2 * len(names) : -1]
    seen = {name: (fields[2 * i + 1] if fields[2 * i] == b"set" else None) for i, name in enumerate(names)}
    child = dict(entry.partition(b"=")[::2] for entry in env_part)
    return seen, child


def assert_no_canary(cwd: Path) -> None:
    assert not (cwd / CANARY).exists(), "a value was executed as a command"


_DETECT = (
    "import sys\n"
    "from awsv.errors import UsageError\n"
    "from awsv.shells import detect_shell\n"
    "import os\n"
    "try:\n"
    "    print(detect_shell(os.environ, None))\n"
    "except UsageError as e:\n"
    "    print('error:', e.message, '|', e.hint)\n"
)


def detect_under(prefix: list[str], env_extra: Mapping[str, str], tmp_path: Path) -> str:
    """What `detect_shell` answers in a Python process started under the real `prefix`
    (a shell's `... -c`, or wrapper programs)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(HELPER)}
    env.update(env_extra)
    proc = subprocess.run(
        [*prefix, shlex.join([sys.executable, "-c", _DETECT]) + "; true"]
        if prefix and prefix[-1] == "-c"
        else [*prefix, sys.executable, "-c", _DETECT],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def all_nasty_at_once() -> dict[str, str]:
    return {f"V_{i}": value for i, value in enumerate(NASTY.values())}


def assert_all_nasty(seen: dict[str, bytes | None], child: dict[bytes, bytes], changes: dict[str, str]) -> None:
    for (label, value), name in zip(NASTY.items(), changes, strict=True):
        expected = value.encode("utf-8", "surrogateescape")
        assert seen[name] == expected, label
        assert child[name.encode()] == expected, label


# -- the contract ----------------------------------------------------------------------


class ShellContract:
    """What every shell's generated code must do in the real shell. Subclass it
    as `TestNAMEContract` with `harness` and `user_options` (at least one)."""

    harness: ClassVar[Harness]
    #: Options a user may have set in the shell that evaluates awsv's output.
    user_options: ClassVar[tuple[str, ...]]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """`user_option` takes each of the subclass's `user_options` in turn."""
        if "user_option" in metafunc.fixturenames:
            assert self.user_options, f"{type(self).__name__} names no user_options"
            metafunc.parametrize("user_option", self.user_options)

    @property
    def shell(self) -> Shell:
        return get_shell(self.harness.name)

    def evaluate(
        self, code: str, names: list[str], cwd: Path, **kwargs: object
    ) -> tuple[dict[str, bytes | None], dict[bytes, bytes]]:
        return evaluate(self.harness, code, names, cwd, **kwargs)  # type: ignore[arg-type]

    # --- round trips ------------------------------------------------------------------

    @pytest.mark.parametrize("value", NASTY.values(), ids=NASTY.keys())
    def test_value_round_trips_byte_for_byte(self, value: str, tmp_path: Path) -> None:
        seen, child = self.evaluate(self.shell.apply({"V": value}), ["V"], tmp_path)
        expected = value.encode("utf-8", "surrogateescape")
        assert seen["V"] == expected
        assert child[b"V"] == expected, "the variable is not exported with the same bytes"
        assert_no_canary(tmp_path)

    @pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
    def test_all_values_at_once_in_any_locale(self, locale: str, tmp_path: Path) -> None:
        """One apply() with every nasty value; the output must not depend on the locale."""
        changes = all_nasty_at_once()
        seen, child = self.evaluate(self.shell.apply(changes), list(changes), tmp_path, locale=locale)
        assert_all_nasty(seen, child, changes)
        assert_no_canary(tmp_path)

    def test_user_shell_options_do_not_change_values(self, user_option: str, tmp_path: Path) -> None:
        """Options a user may have set in the shell that evaluates our code."""
        changes = all_nasty_at_once()
        seen, child = self.evaluate(self.shell.apply(changes), list(changes), tmp_path, prelude=user_option)
        assert_all_nasty(seen, child, changes)
        assert_no_canary(tmp_path)

    def test_unset_really_unsets_and_set_replaces(self, tmp_path: Path) -> None:
        preset = {"GONE": "old secret", "KEPT": "untouched", "REPLACED": "old value"}
        changes: Changes = {"GONE": None, "NEVER_SET": None, "REPLACED": "new value", "NEW": "fresh"}
        names = ["GONE", "NEVER_SET", "KEPT", "REPLACED", "NEW"]
        seen, child = self.evaluate(self.shell.apply(changes), names, tmp_path, preset=preset)
        assert seen == {
            "GONE": None,
            "NEVER_SET": None,
            "KEPT": b"untouched",
            "REPLACED": b"new value",
            "NEW": b"fresh",
        }
        assert b"GONE" not in child and b"NEVER_SET" not in child
        assert child[b"REPLACED"] == b"new value" and child[b"NEW"] == b"fresh"

    def test_only_unsets_succeed_even_when_nothing_is_set(self, tmp_path: Path) -> None:
        """`awsv off` in a clean shell must evaluate cleanly (no error, no output)."""
        seen, child = self.evaluate(self.shell.apply({"A_1": None, "A_2": None}), ["A_1", "A_2"], tmp_path)
        assert seen == {"A_1": None, "A_2": None}
        assert b"A_1" not in child and b"A_2" not in child

    def test_no_changes_changes_nothing(self, tmp_path: Path) -> None:
        seen, _ = self.evaluate(self.shell.apply({}), ["V"], tmp_path, preset={"V": "same"})
        assert seen == {"V": b"same"}

    def test_comment_is_inert(self, tmp_path: Path) -> None:
        text = f"profile dev\n$(touch {CANARY})\r`touch {CANARY}`\x1b[2J; touch {CANARY}"
        code = self.shell.comment(text) + self.shell.apply({"V": "after comment"})
        assert len(self.shell.comment(text).splitlines()) == 2, "only \\n starts a new comment line"
        seen, _ = self.evaluate(code, ["V"], tmp_path)
        assert seen == {"V": b"after comment"}
        assert_no_canary(tmp_path)

    # --- output shape and validation -------------------------------------------------

    @pytest.mark.parametrize("value", NASTY.values(), ids=NASTY.keys())
    def test_quote_is_one_line_of_printable_ascii(self, value: str) -> None:
        quoted = self.shell.quote(value)
        assert quoted, "an empty word would vanish"
        assert all(" " <= c <= "~" for c in quoted), repr(quoted[:80])

    def test_apply_order_is_unsets_then_sets_and_stable(self) -> None:
        changes: dict[str, str | None] = {"Z_NEW": "1", "B_OLD": None, "A_NEW": "2", "Y_OLD": None}
        code = self.shell.apply(changes)
        assert code.endswith("\n")
        # fish adds a status reset that names no variable; every other line is one statement.
        lines = [line for line in code.splitlines() if "_NEW" in line or "_OLD" in line]
        assert len(lines) == 4 and all(line.count("_NEW") + line.count("_OLD") == 1 for line in lines)
        assert all("_OLD" in line for line in lines[:2]) and all("_NEW" in line for line in lines[2:])
        assert self.shell.apply(dict(reversed(list(changes.items())))) == code

    @pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
    def test_bad_variable_names_are_rejected(self, name: str) -> None:
        with pytest.raises(ValueError, match="variable name"):
            self.shell.apply({name: "x"})
        with pytest.raises(ValueError, match="variable name"):
            self.shell.apply({name: None})

    def test_nul_and_stray_surrogates_are_rejected_without_showing_the_value(self) -> None:
        with pytest.raises(ValueError, match="NUL"):
            self.shell.quote("a\0b")
        with pytest.raises(ValueError, match="AWS_SECRET_ACCESS_KEY") as info:
            self.shell.apply({"AWS_SECRET_ACCESS_KEY": "topsecret\0value"})
        assert "topsecret" not in str(info.value)
        with pytest.raises(ValueError, match="surrogate"):
            self.shell.quote("x\ud800y")
        with pytest.raises(TypeError):
            self.shell.apply({"V": 42})  # type: ignore[dict-item]

    # --- detection ----------------------------------------------------------------------

    def test_real_shellingham_finds_the_parent_shell(self, tmp_path: Path) -> None:
        """A real process tree; SHELL points elsewhere to prove the parent process wins."""
        out = detect_under([need(self.harness.argv[0]), *self.harness.argv[1:]], {"SHELL": "/bin/tcsh"}, tmp_path)
        assert out == self.harness.name


def user_definitions_cannot_intercept(harness: Harness, enable: str, tmp_path: Path) -> None:
    """A user's `export`/`unset` alias or function must not see the (secret) values
    (bash, zsh; `enable` is what lets such definitions take effect in that shell)."""
    hostile = [
        enable,
        'function export { echo LEAKED "$@"; }',
        'function unset { echo LEAKED "$@"; }',
        "alias export='echo LEAKED' unset='echo LEAKED'",
        "function KEEP { :; }",
    ]
    code = get_shell(harness.name).apply({"KEEP": None, "SECRET": "s3cr3t"})
    code_file = tmp_path / "code.sh"
    code_file.write_text(code, encoding="ascii")
    # Each definition on its own line, so it is in force when eval parses the code.
    script = "\n".join(
        [
            *hostile,
            "eval 'export PROBE=1; unset PROBE'",  # proves the hostile definitions are active
            'eval "$(command cat "$1")"',
            'printf "<%s>" "$SECRET"',
            'typeset -f KEEP >/dev/null && printf "<function kept>"',
        ]
    )
    proc = subprocess.run(
        [*harness.command(script, str(code_file))],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        timeout=30,
        env={"PATH": os.environ["PATH"]},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"LEAKED PROBE=1\nLEAKED PROBE\n<s3cr3t><function kept>"
