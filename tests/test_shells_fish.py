"""`awsv.shells`' fish code in the real fish: the shell contract.

The contract (tests/support/shell_contract.py) evaluates every hostile value in
`fish --no-config`; this file names fish's harness and the settings a fish
user may have. fish needs no test of user functions named like its builtins:
`set` is a reserved word there, no function can take its name.
"""

from __future__ import annotations

from tests.support.shell_contract import FISH, ShellContract


class TestFishContract(ShellContract):
    harness = FISH
    user_options = (
        # The separator fish splits `read` and command substitutions on.
        "set -g IFS ''",
        "set -g IFS ' '",
    )
