"""The one place awsv takes an exclusive `flock`: on a private lock file, with a deadline.

The file vault, the keyring's index, the session cache's single-flight
refresh, an SSO sign-in and `awsv rotate` all serialise awsv processes with
an flock on a lock file of their own. They share one way of doing it so the
safety rules are written once:

- the lock file is created 0600 and never opened through a symlink; with
  `private_dir`, its directory is made 0700 first (the data directory may not
  exist yet, and the vault refuses one that other users can read);
- a blocking flock could wait forever behind a process stuck at an MFA
  prompt, so a busy lock is polled with a short backoff until a deadline,
  then the caller's own error names what is locked and why (`LockBusy` by
  default); a timeout of 0 is a single try (`awsv rotate` refuses to queue);
- closing the descriptor releases the lock, whatever happens in the block.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from awsv.errors import AwsvError

_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


class LockError(AwsvError):
    """A lock file could not be created, opened or locked (the message names it)."""


class LockBusy(LockError):
    """Another awsv process held the lock past the deadline (the message names what it guards)."""


def make_private_dir(directory: Path) -> None:
    """Create `directory` 0700 (its missing parents too) and make it 0700 if it exists.

    Raises OSError; callers turn it into their own error naming the lock file.
    """
    directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    os.chmod(directory, 0o700)  # in case the umask removed owner bits, or it was made loosely


def _try(fd: int) -> bool:
    """One non-blocking attempt: True when the lock is ours, False when another process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in _BUSY:
            raise
        return False
    return True


def _wait(fd: int, timeout: float, max_delay: float) -> bool:
    """Poll for the lock with a doubling delay until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while time.monotonic() < deadline:
        time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
        if _try(fd):
            return True
        delay = min(delay * 2, max_delay)
    return False


@contextlib.contextmanager
def exclusive_lock(
    path: str | os.PathLike[str],
    timeout: float | Callable[[], float],
    *,
    what: str | None = None,
    timed_out: Callable[[float], AwsvError] | None = None,
    cannot_lock: Callable[[OSError], AwsvError] | None = None,
    private_dir: bool = False,
    on_wait: Callable[[float], None] | None = None,
    max_delay: float = 0.05,
) -> Iterator[None]:
    """Hold an exclusive flock on the lock file `path` while the block runs.

    `timeout` is in seconds (0: try once); a callable is asked only when the
    lock is busy, so a setting it reads is not read otherwise. `on_wait(timeout)`
    runs once when the first try finds the lock taken (to say on a terminal
    what is awaited). Raises `timed_out(timeout)` when the deadline passes
    (default: `LockBusy` naming `what`, else the file) and `cannot_lock(exc)`
    when the directory or file cannot be made, opened or locked (default:
    `LockError` naming the file).
    """
    lock_path = Path(path)

    def failed(exc: OSError) -> AwsvError:
        if cannot_lock is not None:
            return cannot_lock(exc)
        return LockError(f"cannot create the lock file {lock_path}: {exc.strerror or exc}")

    def busy(seconds: float) -> AwsvError:
        if timed_out is not None:
            return timed_out(seconds)
        return LockBusy(
            f"{what or f'the lock file {lock_path}'} is held by another awsv process (waited {seconds:g}s)",
            hint=f"wait for it to finish; the lock is {lock_path}",
        )

    try:
        if private_dir:
            make_private_dir(lock_path.parent)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise failed(exc) from None
    try:
        try:
            if not _try(fd):
                seconds = timeout() if callable(timeout) else timeout
                if on_wait is not None:
                    on_wait(seconds)
                if not _wait(fd, seconds, max_delay):
                    raise busy(seconds)
        except OSError as exc:
            raise failed(exc) from None
        yield
    finally:
        os.close(fd)
