"""`awsv.shells`' zsh code in the real zsh: the shell contract, and what only zsh needs.

The contract (tests/support/shell_contract.py) evaluates every hostile value in
`zsh -f`; this file names zsh's harness and the options a zsh user may have
set, and checks the two things particular to zsh: functions named like
builtins, and comments in an interactive shell.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from awsv.shells import get_shell
from tests.support.shell_contract import ZSH, ShellContract, need, user_definitions_cannot_intercept


class TestZshContract(ShellContract):
    harness = ZSH
    user_options = (
        "setopt rc_quotes magic_equal_subst extended_glob",
        "emulate sh",
        "emulate ksh",
        "setopt no_equals no_multibyte",
    )

    def test_user_aliases_and_functions_cannot_intercept(self, tmp_path: Path) -> None:
        """A user's `export`/`unset` alias or function must not see the (secret) values."""
        # `disable -r export` lets a function named `export` exist.
        user_definitions_cannot_intercept(self.harness, "disable -r export", tmp_path)

    def test_comment_in_interactive_zsh(self, tmp_path: Path) -> None:
        """zsh only honours `#` comments interactively with INTERACTIVE_COMMENTS; eval'd code must still work."""
        shell = get_shell("zsh")
        code = shell.comment("hello") + shell.apply({"V": "ok"})
        script = f'eval {shlex.quote(code)}\nprint -r -- "<$V>"\nexit\n'
        proc = subprocess.run(
            [need("zsh"), "-f", "-i"],
            input=script.encode(),
            check=False,
            capture_output=True,
            timeout=30,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TERM": "dumb"},
        )
        assert b"<ok>" in proc.stdout
        assert b"command not found" not in proc.stderr
