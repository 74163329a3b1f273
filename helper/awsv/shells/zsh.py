"""zsh: the same statements and quoting as bash.

zsh understands `$'...'` with `\\xHH` byte escapes, `builtin export` and
`builtin unset -v` exactly as bash does, so it shares bash's code; it is its
own class so the registry, error messages and future zsh-only output (the
shell-init wiring) have a name to hang on. Bare words never start with `=`,
which zsh would expand to a command's path (see `is_bare_word`).
"""

from __future__ import annotations

from awsv.shells.bash import Bash


class Zsh(Bash):
    """zsh 5.x, in its native mode or under `emulate sh`/`ksh`."""

    name = "zsh"
    plugin = "zsh/awsv.plugin.zsh"
