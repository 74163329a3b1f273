"""Replacing a user's text file (AWS config, credentials) without ever breaking it.

A crash at any instant leaves either the old or the new file: write a
sibling temp file, fsync, rename over, fsync the directory. The file keeps
its mode; a new file is created 0600 because it may hold settings a user
considers private.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from awsv.errors import AwsvError


def atomic_write_text(path: Path, text: str, *, new_mode: int = 0o600) -> None:
    """Replace `path` with `text` atomically, keeping its mode (or `new_mode` if new)."""
    directory = path.parent
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = new_mode
        tmp = directory / f".{path.name}.awsv-{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise AwsvError(f"cannot write {path}: {exc.strerror}") from None
