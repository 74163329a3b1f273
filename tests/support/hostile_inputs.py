"""Hostile inputs for the hardening tests, and the one shape every refusal must have.

`helper_script` writes an executable Python script (what a credential_process
or a passphrase command is); `chained_config` a config whose source_profile
chain is `depth` deep; `make_file_of_kind` puts a FIFO, /dev/zero, a directory
or a sparse 17 MiB file where a config file is expected. `run_limited` runs
awsv with its address space capped, so a regression that reads /dev/zero
ends in a MemoryError instead of exhausting the machine. `one_clean_line`
is the shape every error must have: `awsv: error: ...`, at most a hint, no
traceback.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

PY = sys.executable


def helper_script(tmp: Path, name: str, body: str) -> Path:
    """An executable Python script (the kind of thing a credential_process is)."""
    path = tmp / name
    path.write_text(f"#!{PY}\n" + textwrap.dedent(body))
    path.chmod(0o700)
    return path


def one_clean_line(stderr: str) -> None:
    """An error is `awsv: error: …` (plus at most a hint), never a traceback."""
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 2 and lines[0].startswith("awsv: error:"), stderr[-2000:]


def chained_config(depth: int) -> str:
    lines = ["[profile p0]", "region = eu-west-1"]
    for i in range(1, depth + 1):
        lines += [f"[profile p{i}]", f"role_arn = arn:aws:iam::123456789012:role/r{i}", f"source_profile = p{i - 1}"]
    return "\n".join(lines) + "\n"


def _limited(mib: int):  # type: ignore[no-untyped-def]
    """preexec: cap the address space, so a regression reads /dev/zero into a MemoryError, not the machine."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))

    return apply


def run_limited(env: dict[str, str], *args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "awsv", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=_limited(1024),
        start_new_session=True,
    )


def make_file_of_kind(kind: str, path: Path) -> str:
    """Put `kind` at `path`; returns the words the error must use."""
    path.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
        return "a FIFO"
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
        return "a character device"
    if kind == "directory":
        path.mkdir()
        return "a directory"
    if kind == "oversized":
        with open(path, "wb") as fh:
            fh.truncate(17 * 1024 * 1024)  # sparse: costs no disk
        return "larger than 16 MiB"
    raise AssertionError(kind)


FILE_KINDS = ["fifo", "dev-zero", "directory", "oversized"]
