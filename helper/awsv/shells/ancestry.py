"""Which shell `detect_shell` would choose, found from /proc without importing shellingham.

`eval "$(awsv use P)"` (no `--shell`) runs on the hot path, where importing
shellingham and its `importlib` dance would cost more than the agent's whole
answer. On Linux the same walk is a handful of small /proc reads, so this
module repeats shellingham's rules for the cases that matter and gives up
(returns None, and the full CLI decides) on anything it does not reproduce
exactly: no /proc, an unreadable process, an emulator (rosetta, qemu-*), a
Python process running xonsh, or an answer the full CLI would turn into an
error. When it does answer, it is the answer `detect_shell(env)` gives;
tests compare the two in real process trees.

The rules mirrored (shellingham 1.5, posix, /proc): walk from this process
up through at most 10 processes; a command starting with `-` is a login shell,
named by `$SHELL` if set, else by the command without its dash; a command
whose base name (lower case) is a known shell name is that shell; otherwise
go on to the parent. Found: awsv normalises the name and accepts bash, zsh or
fish. Not found: `$SHELL`, else bash.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs milliseconds on the hot path; annotations are strings anyway
if TYPE_CHECKING:
    from collections.abc import Mapping

#: shellingham's SHELL_NAMES, written out so the hot path does not import it (a test compares them).
KNOWN_SHELL_NAMES = frozenset(
    {
        "sh",
        "bash",
        "dash",
        "ash",
        "csh",
        "tcsh",
        "ksh",
        "zsh",
        "fish",
        "cmd",
        "powershell",
        "pwsh",
        "elvish",
        "xonsh",
        "nu",
    }
)
#: How many processes shellingham looks at, this one included.
MAX_DEPTH = 10


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _supported(raw: str) -> str | None:
    """`raw` as `detect_shell` reports it when it is one awsv writes code for, else None."""
    from awsv.shells import SUPPORTED
    from awsv.shells.detect import normalize_shell_name

    name = normalize_shell_name(raw)
    return name if name in SUPPORTED else None


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1].lower()


def shell_from_ancestry(env: Mapping[str, str], pid: int | None = None) -> str | None:
    """The shell `detect_shell(env)` would pick with no `--shell`, or None when unsure.

    `env` supplies `SHELL` (the full CLI reads it from the same environment).
    """
    if not sys.platform.startswith("linux"):
        return None
    current = str(pid or os.getpid())
    for _ in range(MAX_DEPTH):
        stat = _read(f"/proc/{current}/stat")
        cmdline = _read(f"/proc/{current}/cmdline")
        if not stat or not cmdline:
            return None
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) < 2:
            return None
        parent = fields[1].decode("ascii", "replace")
        args = cmdline.decode(sys.getfilesystemencoding() or "utf-8", "replace").split("\0")[:-1]
        if not args:
            return None
        command = args[0]
        if command.startswith("-"):  # a login shell
            login = env.get("SHELL", "")
            return _supported(_basename(login or command[1:]))
        name = _basename(command)
        if name == "rosetta" or name.startswith("qemu-"):
            return None  # shellingham looks through emulators; we do not
        if name in KNOWN_SHELL_NAMES:
            return _supported(name)
        if name.startswith("python") and any(_basename(a) == "xonsh" for a in args[1:]):
            return None  # maybe xonsh run by Python, which shellingham recognises
        if parent == "0":
            break
        current = parent
    login = env.get("SHELL", "")
    return _supported(login) if login else "bash"
