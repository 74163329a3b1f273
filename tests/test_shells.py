"""awsv.shells: generated code is evaluated by the real bash, zsh and fish.

No golden strings: every test runs `apply()`'s output through the shell's own
`eval` (bash, zsh) or `source` (fish), reads the variables back both from the
shell (`printf '%s\\0'`) and from a child process (`env -0`, proving they are
exported), and compares bytes. A canary file in the working directory proves
that no command substitution, glob or command separator in a value ever ran.

fish is tested for real like the others: it needs the Debian package `fish`
(installed on this machine with apt-get; CI must install it too).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from awsv.errors import ExitCode, UsageError
from awsv.shells import (
    SUPPORTED,
    Changes,
    detect_shell,
    get_shell,
    normalize_shell_name,
)

HELPER = Path(__file__).resolve().parent.parent / "helper"
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


def _need(program: str) -> str:
    """Absolute path of `program`; fails (never skips) when it is missing."""
    path = shutil.which(program)
    assert path, f"{program} is not installed; install it (scripts/test installs it) instead of skipping"
    return path


# For each shell: argv that evaluates the code in file $1 the way the shell
# wrapper will (eval of a command substitution / `| source`), then runs `after`.
# A failing command runs first: the evaluated code must still report success.
def _argv(shell: str, after: str, prelude: str = "") -> list[str]:
    if shell == "bash":
        script = prelude + '\nfalse\neval "$(command cat "$1")" || exit 99\n' + after
        return [_need("bash"), "--noprofile", "--norc", "-c", script, "bash"]
    if shell == "zsh":
        script = prelude + '\nfalse\neval "$(command cat "$1")" || exit 99\n' + after
        return [_need("zsh"), "-f", "-c", script, "zsh"]
    if shell == "fish":
        script = prelude + "\nfalse\ncommand cat $argv[1] | source; or exit 99\n" + after
        return [_need("fish"), "--no-config", "-c", script]
    raise AssertionError(shell)


def _readback(shell: str, names: list[str]) -> str:
    """Shell code printing each variable as `set\\0VALUE\\0` or `unset\\0\\0`, then `env -0`."""
    lines = []
    for name in names:
        if shell == "fish":
            lines.append(f"if set -q {name}; printf 'set\\0%s\\0' \"${name}\"; else; printf 'unset\\0\\0'; end")
        else:
            lines.append(
                f'if [ "${{{name}+set}}" = set ]; then printf "set\\0%s\\0" "${name}"; else printf "unset\\0\\0"; fi'
            )
    lines.append("command env -0")
    return "\n".join(lines) + "\n"


def _eval(
    shell: str,
    code: str,
    names: list[str],
    cwd: Path,
    preset: Mapping[str, str] | None = None,
    locale: str = "C.UTF-8",
    prelude: str = "",
) -> tuple[dict[str, bytes | None], dict[bytes, bytes]]:
    """Evaluate `code` in a real `shell` started with `preset` in its environment.

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
    proc = subprocess.run(
        [*_argv(shell, _readback(shell, names), prelude), str(code_file)],
        cwd=cwd,
        env=env,
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 0, f"{shell} failed ({proc.returncode}): {proc.stderr!r}"
    assert proc.stderr == b"", f"{shell} complained: {proc.stderr!r}"
    # Values cannot hold NUL, so NUL alone frames everything: 2 fields per name, then env -0.
    fields = proc.stdout.split(b"\0")
    assert fields[-1] == b"" and len(fields) > 2 * len(names), proc.stdout[:500]
    env_part = fields[2 * len(names) : -1]
    seen = {name: (fields[2 * i + 1] if fields[2 * i] == b"set" else None) for i, name in enumerate(names)}
    child = dict(entry.partition(b"=")[::2] for entry in env_part)
    return seen, child


def _assert_no_canary(cwd: Path) -> None:
    assert not (cwd / CANARY).exists(), "a value was executed as a command"


@pytest.fixture(params=SUPPORTED)
def shell_name(request: pytest.FixtureRequest) -> str:
    """Each supported shell in turn."""
    return str(request.param)


# --- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("value", NASTY.values(), ids=NASTY.keys())
def test_value_round_trips_byte_for_byte(shell_name: str, value: str, tmp_path: Path) -> None:
    code = get_shell(shell_name).apply({"V": value})
    seen, child = _eval(shell_name, code, ["V"], tmp_path)
    expected = value.encode("utf-8", "surrogateescape")
    assert seen["V"] == expected
    assert child[b"V"] == expected, "the variable is not exported with the same bytes"
    _assert_no_canary(tmp_path)


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_all_values_at_once_in_any_locale(shell_name: str, locale: str, tmp_path: Path) -> None:
    """One apply() with every nasty value; the output must not depend on the locale."""
    changes = {f"V_{i}": value for i, value in enumerate(NASTY.values())}
    code = get_shell(shell_name).apply(changes)
    seen, child = _eval(shell_name, code, list(changes), tmp_path, locale=locale)
    for (label, value), name in zip(NASTY.items(), changes, strict=True):
        expected = value.encode("utf-8", "surrogateescape")
        assert seen[name] == expected, label
        assert child[name.encode()] == expected, label
    _assert_no_canary(tmp_path)


@pytest.mark.parametrize(
    ("shell_name", "prelude"),
    [
        ("bash", "set -o posix"),
        ("bash", "shopt -s extglob extquote nullglob failglob; set -o histexpand"),
        ("zsh", "setopt rc_quotes magic_equal_subst extended_glob"),
        ("zsh", "emulate sh"),
        ("zsh", "emulate ksh"),
        ("zsh", "setopt no_equals no_multibyte"),
    ],
)
def test_user_shell_options_do_not_change_values(shell_name: str, prelude: str, tmp_path: Path) -> None:
    """Options a user may have set in the shell that evaluates our code."""
    changes = {f"V_{i}": value for i, value in enumerate(NASTY.values())}
    code = get_shell(shell_name).apply(changes)
    seen, child = _eval(shell_name, code, list(changes), tmp_path, prelude=prelude)
    for (label, value), name in zip(NASTY.items(), changes, strict=True):
        expected = value.encode("utf-8", "surrogateescape")
        assert seen[name] == expected, label
        assert child[name.encode()] == expected, label
    _assert_no_canary(tmp_path)


def test_unset_really_unsets_and_set_replaces(shell_name: str, tmp_path: Path) -> None:
    preset = {"GONE": "old secret", "KEPT": "untouched", "REPLACED": "old value"}
    changes: Changes = {
        "GONE": None,
        "NEVER_SET": None,
        "REPLACED": "new value",
        "NEW": "fresh",
    }
    code = get_shell(shell_name).apply(changes)
    names = ["GONE", "NEVER_SET", "KEPT", "REPLACED", "NEW"]
    seen, child = _eval(shell_name, code, names, tmp_path, preset=preset)
    assert seen == {
        "GONE": None,
        "NEVER_SET": None,
        "KEPT": b"untouched",
        "REPLACED": b"new value",
        "NEW": b"fresh",
    }
    assert b"GONE" not in child and b"NEVER_SET" not in child
    assert child[b"REPLACED"] == b"new value" and child[b"NEW"] == b"fresh"


def test_only_unsets_succeed_even_when_nothing_is_set(shell_name: str, tmp_path: Path) -> None:
    """`awsv off` in a clean shell must evaluate cleanly (no error, no output)."""
    code = get_shell(shell_name).apply({"A_1": None, "A_2": None})
    seen, child = _eval(shell_name, code, ["A_1", "A_2"], tmp_path)
    assert seen == {"A_1": None, "A_2": None}
    assert b"A_1" not in child


def test_no_changes_changes_nothing(shell_name: str, tmp_path: Path) -> None:
    code = get_shell(shell_name).apply({})
    seen, _ = _eval(shell_name, code, ["V"], tmp_path, preset={"V": "same"})
    assert seen == {"V": b"same"}


@pytest.mark.parametrize("shell_name", ["bash", "zsh"])
def test_user_aliases_and_functions_cannot_intercept(shell_name: str, tmp_path: Path) -> None:
    """A user's `export`/`unset` alias or function must not see the (secret) values.

    fish needs no such test: `set` is a reserved word there.
    """
    hostile = [
        'function export { echo LEAKED "$@"; }',
        'function unset { echo LEAKED "$@"; }',
        "alias export='echo LEAKED' unset='echo LEAKED'",
        "function KEEP { :; }",
    ]
    if shell_name == "bash":
        hostile.insert(0, "shopt -s expand_aliases")
    else:
        hostile.insert(0, "disable -r export")  # lets a function named `export` exist
    code = get_shell(shell_name).apply({"KEEP": None, "SECRET": "s3cr3t"})
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
    argv = [
        _need(shell_name),
        "-f" if shell_name == "zsh" else "--norc",
        "-c",
        script,
        "sh",
        str(code_file),
    ]
    proc = subprocess.run(
        argv,
        cwd=tmp_path,
        check=False,
        capture_output=True,
        timeout=30,
        env={"PATH": os.environ["PATH"]},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"LEAKED PROBE=1\nLEAKED PROBE\n<s3cr3t><function kept>"


def test_comment_is_inert(shell_name: str, tmp_path: Path) -> None:
    shell = get_shell(shell_name)
    text = f"profile dev\n$(touch {CANARY})\r`touch {CANARY}`\x1b[2J; touch {CANARY}"
    code = shell.comment(text) + shell.apply({"V": "after comment"})
    assert len(shell.comment(text).splitlines()) == 2, "only \\n starts a new comment line"
    seen, _ = _eval(shell_name, code, ["V"], tmp_path)
    assert seen == {"V": b"after comment"}
    _assert_no_canary(tmp_path)


def test_comment_in_interactive_zsh(tmp_path: Path) -> None:
    """zsh only honours `#` comments interactively with INTERACTIVE_COMMENTS; eval'd code must still work."""
    shell = get_shell("zsh")
    code = shell.comment("hello") + shell.apply({"V": "ok"})
    script = f'eval {shlex.quote(code)}\nprint -r -- "<$V>"\nexit\n'
    proc = subprocess.run(
        [_need("zsh"), "-f", "-i"],
        input=script.encode(),
        check=False,
        capture_output=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TERM": "dumb"},
    )
    assert b"<ok>" in proc.stdout
    assert b"command not found" not in proc.stderr


# --- output shape and validation ---------------------------------------------


@pytest.mark.parametrize("value", NASTY.values(), ids=NASTY.keys())
def test_quote_is_one_line_of_printable_ascii(shell_name: str, value: str) -> None:
    quoted = get_shell(shell_name).quote(value)
    assert quoted, "an empty word would vanish"
    assert all(" " <= c <= "~" for c in quoted), repr(quoted[:80])


def test_apply_order_is_unsets_then_sets_and_stable(shell_name: str) -> None:
    shell = get_shell(shell_name)
    changes: dict[str, str | None] = {
        "Z_NEW": "1",
        "B_OLD": None,
        "A_NEW": "2",
        "Y_OLD": None,
    }
    code = shell.apply(changes)
    assert code.endswith("\n")
    # fish adds a status reset that names no variable; every other line is one statement.
    lines = [line for line in code.splitlines() if "_NEW" in line or "_OLD" in line]
    assert len(lines) == 4 and all(line.count("_NEW") + line.count("_OLD") == 1 for line in lines)
    assert all("_OLD" in line for line in lines[:2]) and all("_NEW" in line for line in lines[2:])
    assert shell.apply(dict(reversed(list(changes.items())))) == code


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_bad_variable_names_are_rejected(shell_name: str, name: str) -> None:
    shell = get_shell(shell_name)
    with pytest.raises(ValueError, match="variable name"):
        shell.apply({name: "x"})
    with pytest.raises(ValueError, match="variable name"):
        shell.apply({name: None})


def test_nul_and_stray_surrogates_are_rejected_without_showing_the_value(
    shell_name: str,
) -> None:
    shell = get_shell(shell_name)
    with pytest.raises(ValueError, match="NUL"):
        shell.quote("a\0b")
    with pytest.raises(ValueError, match="AWS_SECRET_ACCESS_KEY") as info:
        shell.apply({"AWS_SECRET_ACCESS_KEY": "topsecret\0value"})
    assert "topsecret" not in str(info.value)
    with pytest.raises(ValueError, match="surrogate"):
        shell.quote("x\ud800y")
    with pytest.raises(TypeError):
        shell.apply({"V": 42})  # type: ignore[dict-item]


def test_get_shell_rejects_unknown_names() -> None:
    with pytest.raises(UsageError) as info:
        get_shell("tcsh")
    assert info.value.exit_code == ExitCode.USAGE
    assert "tcsh" in info.value.message
    assert info.value.hint and all(name in info.value.hint for name in ("bash", "zsh", "fish"))
    assert [get_shell(n).name for n in SUPPORTED] == list(SUPPORTED)


# --- detection ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bash", "bash"),
        ("/bin/bash", "bash"),
        ("-zsh", "zsh"),
        ("zsh5", "zsh"),
        ("/usr/local/bin/zsh-5.9", "zsh"),
        ("bash-5.2", "bash"),
        ("FISH", "fish"),
        ("C:\\Program Files\\Git\\bin\\bash.exe", "bash"),
        ("/bin/tcsh", "tcsh"),
        ("-sh", "sh"),
    ],
)
def test_normalize_shell_name(raw: str, expected: str) -> None:
    assert normalize_shell_name(raw) == expected


def _no_shell_found() -> str | None:
    """Stands in for "shellingham found no shell among the parents" (real case tested below)."""
    return None


def test_override_wins_over_everything() -> None:
    env = {"SHELL": "/bin/bash"}
    assert detect_shell(env, "zsh", detector=lambda: "fish") == "zsh"
    assert detect_shell(env, "/usr/bin/fish") == "fish"
    assert detect_shell(env, "-zsh") == "zsh"


@pytest.mark.parametrize("bad", ["tcsh", "", "powershell", "bash; rm -rf /"])
def test_bad_override_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        detect_shell({"SHELL": "/bin/zsh"}, bad)
    assert info.value.exit_code == ExitCode.USAGE
    assert "--shell" in info.value.message and "zsh" in (info.value.hint or "")


def test_detected_shell_comes_before_login_shell() -> None:
    assert detect_shell({"SHELL": "/bin/bash"}, None, detector=lambda: "zsh") == "zsh"
    with pytest.raises(UsageError) as info:
        detect_shell({"SHELL": "/bin/bash"}, None, detector=lambda: "dash")
    assert "dash" in info.value.message and "--shell" in (info.value.hint or "")


def test_login_shell_fallback_and_default() -> None:
    """The detector is replaced by `_no_shell_found`; the real no-shell case is the next test."""
    assert detect_shell({"SHELL": "/usr/bin/zsh5"}, None, detector=_no_shell_found) == "zsh"
    assert detect_shell({"SHELL": "-fish"}, None, detector=_no_shell_found) == "fish"
    assert detect_shell({}, None, detector=_no_shell_found) == "bash"
    with pytest.raises(UsageError) as info:
        detect_shell({"SHELL": "/bin/tcsh"}, None, detector=_no_shell_found)
    assert "SHELL" in info.value.message and "--shell" in (info.value.hint or "")


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


def _detect_under(prefix: list[str], env_extra: Mapping[str, str], tmp_path: Path) -> str:
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


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["bash", "--noprofile", "--norc", "-c"], "bash"),
        (["zsh", "-f", "-c"], "zsh"),
        (["fish", "--no-config", "-c"], "fish"),
    ],
)
def test_real_shellingham_finds_the_parent_shell(argv: list[str], expected: str, tmp_path: Path) -> None:
    """Real process trees; SHELL points elsewhere to prove the parent process wins."""
    out = _detect_under([_need(argv[0]), *argv[1:]], {"SHELL": "/bin/tcsh"}, tmp_path)
    assert out == expected


def test_real_unsupported_parent_shell_is_an_error(tmp_path: Path) -> None:
    out = _detect_under([_need("dash"), "-c"], {"SHELL": "/usr/bin/zsh"}, tmp_path)
    assert out.startswith("error:") and "--shell" in out


def test_real_no_shell_in_parents_falls_back_to_login_shell(tmp_path: Path) -> None:
    """Twelve real `timeout` processes between us and any shell exceed shellingham's depth."""
    wrappers = [_need("timeout"), "60"] * 12
    assert _detect_under(wrappers, {"SHELL": "/bin/zsh"}, tmp_path) == "zsh"
    assert _detect_under(wrappers, {}, tmp_path) == "bash"


# --- import cost ----------------------------------------------------------------


def test_import_is_light() -> None:
    """The hot path of `awsv use` must not load heavy or optional modules."""
    code = (
        "import sys, json\n"
        "from awsv.shells import get_shell\n"
        "get_shell('zsh').apply({'A': 'x', 'B': None})\n"
        "heavy = ('shellingham', 'boto3', 'botocore', 'keyring', 'cryptography')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(HELPER)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
