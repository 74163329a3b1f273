"""Fuzzed values through the shell layer and through `awsv use`, in every supported shell.

Hypothesis generates the values (with fragments that broke quoting in other
tools mixed in); each example is evaluated by the real shell, which must see
every value byte for byte, export it unchanged, and run nothing (the canary
file of tests/support/shell_contract.py must never appear). The end-to-end part runs
`awsv use` on a credential_process profile whose credentials are fuzzed within
what awsv accepts (printable ASCII: quotes, `$`, backticks and all).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from awsv.shells import SUPPORTED, get_shell
from tests.conftest import base_env
from tests.hardening.conftest import Tally, size
from tests.support.shell_contract import CANARY, HARNESSES, evaluate

pytestmark = pytest.mark.slow

FRAGMENTS = [
    f"`touch {CANARY}`",
    f"$(touch {CANARY})",
    f"(touch {CANARY})",
    f"'; touch {CANARY}; '",
    f'"; touch {CANARY}; "',
    f"$'\\''; touch {CANARY} #",
    "\\",
    "\\\n",
    "!!",
    "%s%n",
    "${IFS}",
    "\r\n",
    "\x1b[31m",
    "\u202e",
    "\udcff\udc80",
    "*",
    "~",
    "{a,b}",
    "$'\\x41'",
    "\n#",
]
VALUE = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=40),
    ),
    max_size=6,
).map("".join)

SETTINGS = settings(
    max_examples=size(6, 130),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.hardening_row("fuzzed values through the shells and `use` in bash, zsh and fish")
@pytest.mark.parametrize("shell", SUPPORTED)
def test_fuzzed_values_round_trip(shell: str, tmp_path: Path, tally: Tally) -> None:
    @SETTINGS
    @given(values=st.lists(VALUE, min_size=1, max_size=20))
    @example(values=["\\\n", f"$'\\''; touch {CANARY} #", "\udcff", "-n", "-e\\c"])
    def check(values: list[str]) -> None:
        cwd = tmp_path / uuid.uuid4().hex
        cwd.mkdir()
        changes = {f"V_{i}": v for i, v in enumerate(values)}
        seen, child = evaluate(HARNESSES[shell], get_shell(shell).apply(changes), list(changes), cwd)
        for name, value in changes.items():
            expected = value.encode("utf-8", "surrogateescape")
            ok = seen[name] == expected and child[name.encode()] == expected
            tally.attempt(ok, f"{shell}: {value!r}")
        tally.attempt(not (cwd / CANARY).exists(), f"{shell}: a value ran a command")
        assert tally.held == tally.tried

    check()


PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)

PROCESS = """#!{python}
import json, sys
print(json.dumps(json.load(open(sys.argv[1]))))
"""


@pytest.mark.hardening_row("fuzzed values through the shells and `use` in bash, zsh and fish")
@pytest.mark.parametrize("shell", SUPPORTED)
def test_fuzzed_credentials_through_use(shell: str, home: Path, tally: Tally) -> None:
    doc_file = home / "doc.json"
    script = home / "cp"
    script.write_text(PROCESS.format(python=sys.executable))
    script.chmod(0o700)
    (home / ".aws" / "config").write_text(f"[profile cp]\ncredential_process = {script} {doc_file}\n")
    env = base_env(home)

    @settings(
        max_examples=size(2, 30),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(secret=PRINTABLE, token=PRINTABLE)
    @example(secret="'\"$(touch${IFS}pwned)`touch${IFS}pwned`;|&<>\\", token="%s${IFS}!!{}*?[]~#")
    def check(secret: str, token: str) -> None:
        doc_file.write_text(
            json.dumps(
                {
                    "Version": 1,
                    "AccessKeyId": "ASIAFUZZ0000000001",
                    "SecretAccessKey": secret,
                    "SessionToken": token,
                    "Expiration": "2099-01-01T00:00:00Z",
                }
            )
        )
        r = subprocess.run(
            [sys.executable, "-m", "awsv", "use", "--shell", shell, "cp"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
        )
        assert r.returncode == 0, r.stderr
        cwd = home / uuid.uuid4().hex
        cwd.mkdir()
        names = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
        seen, _ = evaluate(HARNESSES[shell], r.stdout, names, cwd)
        ok = seen == {"AWS_SECRET_ACCESS_KEY": secret.encode(), "AWS_SESSION_TOKEN": token.encode()}
        tally.attempt(ok and not (cwd / CANARY).exists(), f"{shell}: {secret!r} {token!r}")
        assert tally.held == tally.tried

    check()
