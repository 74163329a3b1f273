"""awsv.shells as a whole: looking shells up by name, detecting the user's shell, import cost.

What each shell's generated code does in the real shell is the shell contract
(tests/support/shell_contract.py), run by one subclass per shell in
tests/test_shells_NAME.py; tests/test_suite_structure.py checks that every
shell in SUPPORTED has one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from awsv.errors import ExitCode, UsageError
from awsv.shells import (
    SUPPORTED,
    detect_shell,
    get_shell,
    normalize_shell_name,
)
from tests.support.shell_contract import HELPER, detect_under, need


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


def test_real_unsupported_parent_shell_is_an_error(tmp_path: Path) -> None:
    out = detect_under([need("dash"), "-c"], {"SHELL": "/usr/bin/zsh"}, tmp_path)
    assert out.startswith("error:") and "--shell" in out


def test_real_no_shell_in_parents_falls_back_to_login_shell(tmp_path: Path) -> None:
    """Twelve real `timeout` processes between us and any shell exceed shellingham's depth."""
    wrappers = [need("timeout"), "60"] * 12
    assert detect_under(wrappers, {"SHELL": "/bin/zsh"}, tmp_path) == "zsh"
    assert detect_under(wrappers, {}, tmp_path) == "bash"


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
