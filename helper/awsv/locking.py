"""Waiting for an exclusive `flock` with a deadline, the same way everywhere.

The vault file, the keyring's index and the session cache's single-flight
refresh all serialise awsv processes with an flock on a private lock file.
A blocking flock could wait forever behind a process stuck at an MFA
prompt, so each polls with a short backoff until its deadline and then
raises the caller's own error, which names what is locked and why.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator

from awsv.errors import AwsvError

_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


def wait_for_flock(fd: int, timeout: float, timed_out: Callable[[], AwsvError], *, max_delay: float = 0.05) -> None:
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


@contextlib.contextmanager
def exclusive_lock(
    path: str | os.PathLike[str],
    timeout: float,
    *,
    timed_out: Callable[[], AwsvError],
    cannot_lock: Callable[[OSError], AwsvError],
    max_delay: float = 0.05,
) -> Iterator[None]:
    """Hold an exclusive flock on the lock file `path` while the block runs.

    The file is created 0600 if missing and never opened through a symlink; its
    directory must exist (callers make it private their own way). Raises
    `timed_out()` after `timeout` seconds, `cannot_lock(exc)` when the file
    cannot be opened or locked. Closing the descriptor releases the lock.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise cannot_lock(exc) from None
    try:
        try:
            wait_for_flock(fd, timeout, timed_out, max_delay=max_delay)
        except OSError as exc:
            raise cannot_lock(exc) from None
        yield
    finally:
        os.close(fd)
