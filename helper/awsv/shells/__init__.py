"""Shell code output: the only place in awsv that writes shell code.

Usage::

    shell = get_shell(detect_shell(os.environ, args.shell))
    sys.stdout.write(shell.apply({"AWS_PROFILE": None, "AWSV_PROFILE": "dev"}))

Each dialect lives in its own small module and quotes every value through its
one quoting function. Importing this package is cheap (only `re` and our own
modules): it sits on the hot path of `awsv use`. shellingham is imported only
when `detect_shell` actually has to look at the process tree.
"""

from __future__ import annotations

from awsv.errors import UsageError
from awsv.shells.base import Changes, Shell, validate_name
from awsv.shells.bash import Bash
from awsv.shells.detect import detect_shell, normalize_shell_name
from awsv.shells.fish import Fish
from awsv.shells.zsh import Zsh

_SHELLS: dict[str, Shell] = {shell.name: shell for shell in (Bash(), Zsh(), Fish())}

SUPPORTED: tuple[str, ...] = tuple(_SHELLS)
"""Names accepted by `get_shell` and `--shell`, in the order shown to users."""

PLUGINS: dict[str, str] = {name: shell.plugin for name, shell in _SHELLS.items() if shell.plugin}
"""Shell name -> its integration file under `shell/` (for `awsv shell-init`)."""


def get_shell(name: str) -> Shell:
    """Return the dialect called `name` (exactly as in SUPPORTED).

    Raises UsageError listing the supported shells for any other name.
    """
    try:
        return _SHELLS[name]
    except KeyError:
        raise UsageError(
            f"unsupported shell {name!r}",
            hint=f"supported shells: {', '.join(SUPPORTED)}",
        ) from None


__all__ = [
    "PLUGINS",
    "SUPPORTED",
    "Changes",
    "Shell",
    "detect_shell",
    "get_shell",
    "normalize_shell_name",
    "validate_name",
]
