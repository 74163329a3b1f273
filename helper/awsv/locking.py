"""Waiting for an exclusive `flock` with a deadline, the same way everywhere.

The vault file, the keyring's index and the session cache's single-flight
refresh all serialise awsv processes with an flock on a private lock file.
A blocking flock could wait forever behind a process stuck at an MFA
prompt, so each polls with a short backoff until its deadline and then
raises the caller's own error, which names what is locked and why.
"""

from __future__ import annotations

import errno
import fcntl
import time
from collections.abc import Callable

from awsv.errors import AwsvError

_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


def wait_for_flock(fd: int, timeout: float, timed_out: Callable[[], AwsvError], *,
                   max_delay: float = 0.05) -> None:
    """Take an exclusive flock on `fd` within `timeout` seconds, else raise `timed_out()`.

    The lock is released by closing `fd` (the callers' `finally`).
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in _BUSY:
                raise
        if time.monotonic() >= deadline:
            raise timed_out()
        time.sleep(delay)
        delay = min(delay * 2, max_delay)
