"""awsv.locking: the one flock helper, against a real holder in another process.

The holder is a separate Python process that takes the same flock and says
so on stdout, so "busy" is the kernel's answer, not a simulated one.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from awsv.locking import LockBusy, LockError, exclusive_lock

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    """A lock file held by another process for the length of the test."""
    path = tmp_path / "locks" / "x.lock"
    path.parent.mkdir(mode=0o700)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    yield path
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)


def test_a_private_lock_directory_and_file(tmp_path: Path) -> None:
    loose = tmp_path / "data"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    lock = loose / "locks" / "v.lock"
    with exclusive_lock(lock, 1.0, private_dir=True):
        assert stat.S_IMODE(lock.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    with exclusive_lock(loose / "v.lock", 1.0, private_dir=True):
        assert stat.S_IMODE(loose.stat().st_mode) == 0o700  # an existing loose directory is tightened


def test_a_symlink_in_place_of_the_lock_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("not yours")
    lock = tmp_path / "v.lock"
    lock.symlink_to(target)
    with pytest.raises(LockError) as caught, exclusive_lock(lock, 1.0):
        pass
    assert caught.value.message == f"cannot create the lock file {lock}: Too many levels of symbolic links"
    assert target.read_text() == "not yours"


def test_timeout_zero_is_one_try_and_the_default_error_names_the_file(held: Path) -> None:
    waited: list[float] = []
    with pytest.raises(LockBusy) as caught, exclusive_lock(held, 0, on_wait=waited.append):
        pass
    assert caught.value.message == f"the lock file {held} is held by another awsv process (waited 0s)"
    assert caught.value.hint == f"wait for it to finish; the lock is {held}"
    assert waited == [0]


def test_a_busy_lock_waits_until_the_deadline_then_names_what_it_guards(held: Path) -> None:
    asked: list[str] = []

    def timeout() -> float:
        asked.append("timeout")
        return 0.2

    with pytest.raises(LockBusy) as caught, exclusive_lock(held, timeout, what="the file vault"):
        pass
    assert caught.value.message == "the file vault is held by another awsv process (waited 0.2s)"
    assert asked == ["timeout"]


def test_a_free_lock_reads_no_timeout_setting_and_is_released_after_the_block(tmp_path: Path) -> None:
    lock = tmp_path / "v.lock"

    def timeout() -> float:
        raise AssertionError("the timeout is read only when the lock is busy")

    with exclusive_lock(lock, timeout):
        taken = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import fcntl,os;fd=os.open({str(lock)!r},os.O_RDWR);fcntl.flock(fd,fcntl.LOCK_EX|fcntl.LOCK_NB)",
            ],
            capture_output=True,
            check=False,
        )
        assert taken.returncode == 1 and b"BlockingIOError" in taken.stderr  # held while inside
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import fcntl,os;fd=os.open({str(lock)!r},os.O_RDWR);fcntl.flock(fd,fcntl.LOCK_EX|fcntl.LOCK_NB)",
        ],
        check=False,
    )
    assert again.returncode == 0  # released on the way out
