"""Reading a user file that a hostile or broken setup may have replaced.

Every text file awsv reads (the AWS config, the credentials file, awsv's
settings, a credentials file to import) goes through `read_text_file`, so
none of them can hang or exhaust memory:

* it is opened with O_NONBLOCK, so a FIFO at the path cannot block the open;
* after opening, `fstat` on the descriptor (not the path, which may change)
  must show a regular file: FIFOs, sockets, devices and directories are
  refused, which also covers a symlink to `/dev/zero`;
* it must not be larger than `max_bytes` (MAX_FILE_BYTES by default), and at
  most `max_bytes + 1` bytes are ever read, in case it grows meanwhile.

Each refusal is one line naming the file. A missing file raises
FileNotFoundError so the caller decides what absence means.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from awsv.errors import AwsvError, ConfigError

#: The largest config, credentials or settings file awsv reads (README, "Limits").
MAX_FILE_BYTES = 16 * 1024 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_bytes_file(
    path: Path, *, what: str, max_bytes: int = MAX_FILE_BYTES, error: type[AwsvError] = ConfigError
) -> bytes:
    """The bytes of regular file `path`; raises `error` (one line naming `what` and the path).

    FileNotFoundError passes through untouched.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise error(f"cannot read {what} {path}: it is a directory") from None
    except PermissionError:
        raise error(f"cannot read {what} {path}: permission denied") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"cannot read {what} {path}: it is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise error(f"cannot read {what} {path}: it is larger than {_size(max_bytes)}")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise error(f"cannot read {what} {path}: it is larger than {_size(max_bytes)}")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def read_text_file(
    path: Path, *, what: str, max_bytes: int = MAX_FILE_BYTES, error: type[AwsvError] = ConfigError
) -> str:
    """`read_bytes_file` decoded as UTF-8; other bytes are one error naming the file."""
    raw = read_bytes_file(path, what=what, max_bytes=max_bytes, error=error)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"cannot read {what} {path}: it is not UTF-8 text") from None


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"
