"""Running a command in the foreground while awsv keeps working (the endpoint of `exec --server`).

`awsv exec` without a server replaces itself with the command. With a
server it cannot: awsv must keep answering, so it starts the command as a
child in its own process group and terminal, waits, and then leaves with the
child's status:

* Ctrl-C (SIGINT) and Ctrl-\\ (SIGQUIT) come from the terminal to the whole
  foreground process group, so the child already gets them; awsv only keeps
  running until the child has exited (forwarding them would deliver them
  twice, and a second Ctrl-C means "force quit" to some programs).
* SIGTERM and SIGHUP are usually sent to awsv alone (`kill PID`, a closed
  terminal), so they are forwarded to the child.
* A child killed by a signal makes awsv die of the same signal
  (`exit_like`), so a shell sees 128+N and a script loop stops on Ctrl-C.

Handlers installed here are Python handlers, not SIG_IGN, so the child
starts with default signal dispositions (exec resets handlers, but keeps
"ignored").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from types import FrameType

FORWARDED = (signal.SIGTERM, signal.SIGHUP)
WAITED = (signal.SIGINT, signal.SIGQUIT)
#: Sent to a background process group touching the terminal; ignored while the child runs.
BACKGROUND = (signal.SIGTTIN, signal.SIGTTOU)


def run_foreground(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `argv` and wait for it; its return code (negative: killed by that signal).

    Raises FileNotFoundError / PermissionError / OSError when it cannot start.
    """
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            try:
                child.send_signal(signum)
            except OSError:
                pass

    def wait_for_child(_signum: int, _frame: FrameType | None) -> None:
        pass

    old = {s: signal.getsignal(s) for s in (*FORWARDED, *WAITED, *BACKGROUND)}
    # Python handlers, installed before the child starts so no Ctrl-C falls in
    # between; exec resets them to the default in the child.
    for s in FORWARDED:
        signal.signal(s, forward)
    for s in WAITED:
        signal.signal(s, wait_for_child)
    try:
        proc = subprocess.Popen(list(argv), env=dict(env))  # noqa: S603 - the user's own command, no shell
        children.append(proc)
        # The child has exec'd (Popen returns after that), so ignoring these no
        # longer reaches it. An interactive child shell takes the terminal's
        # foreground; a prompt or message from awsv must then fail or print, not
        # stop awsv (and with it the endpoint).
        for s in BACKGROUND:
            signal.signal(s, signal.SIG_IGN)
        return proc.wait()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def exit_like(returncode: int) -> int:
    """The status for awsv to leave with: the child's code, or death by the child's signal.

    For a signal it resets the handler and kills this process with it (only
    returning 128+N if that did not end the process).
    """
    if returncode >= 0:
        return returncode
    signum = -returncode
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    except (OSError, ValueError):
        pass
    return 128 + signum
