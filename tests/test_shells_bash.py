"""`awsv.shells`' bash code in the real bash: the shell contract, and what only bash needs.

The contract (tests/support/shell_contract.py) evaluates every hostile value in
`bash --noprofile --norc`; this file names bash's harness and the options a
bash user may have set.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.shell_contract import BASH, ShellContract, user_definitions_cannot_intercept


class TestBashContract(ShellContract):
    harness = BASH
    user_options = (
        "set -o posix",
        "shopt -s extglob extquote nullglob failglob; set -o histexpand",
    )

    def test_user_aliases_and_functions_cannot_intercept(self, tmp_path: Path) -> None:
        """A user's `export`/`unset` alias or function must not see the (secret) values."""
        user_definitions_cannot_intercept(self.harness, "shopt -s expand_aliases", tmp_path)
