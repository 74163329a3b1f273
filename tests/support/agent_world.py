"""The agent's world: a file vault, a counting passphrase command and a runtime dir of its own.

Every command of a test runs the real CLI with `AWSV_AGENT=auto`, so a real
detached agent starts and serves the vault. The passphrase comes from a
script that appends a line to a file each time it runs, so "asked" means "the
script ran". Each world carries a marker variable (`AWSV_TEST_MARK`) that its
agents inherit: `cleanup_agents` locks, then kills whatever agent still
carries the marker, and fails if one survives.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import TEST_PASSPHRASE, AwsvRunner, base_env
from tests.support.keys import KEY_ID, SECRET
from tests.support.polling import wait_for

COUNTER = """#!/bin/sh
echo asked >> "{count}"
printf '%s\\n' '{passphrase}'
"""


def agent_pids(mark: str) -> list[int]:
    """Live agent processes whose environment carries `mark` (needs root or the same uid)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if b"awsv.agent" in cmdline and f"AWSV_TEST_MARK={mark}".encode() in environ.split(b"\0"):
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has forgotten everything all the same.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class World:
    """A HOME with a file vault holding `prod`, a counting passphrase command, its own runtime dir."""

    home: Path
    env: dict[str, str]
    awsv: AwsvRunner
    count_file: Path
    mark: str

    def asked(self) -> int:
        return len(self.count_file.read_text().splitlines()) if self.count_file.exists() else 0

    def ok(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        r = self.awsv(*args, **kwargs)  # type: ignore[arg-type]
        assert r.returncode == 0, f"awsv {' '.join(args)}: {r.stderr}"
        return r

    def status(self, **kwargs: object) -> dict[str, object]:
        return json.loads(self.ok("unlock", "--status", "--json", **kwargs).stdout)

    @property
    def socket_path(self) -> Path:
        return Path(self.env["XDG_RUNTIME_DIR"]) / "awsv" / "agent.sock"

    def agent_pid(self) -> int:
        st = self.status()
        assert st["unlocked"] is True, st
        return int(st["pid"])  # type: ignore[call-overload]


def cleanup_agents(runner: AwsvRunner, mark: str) -> None:
    """`awsv lock`, then SIGKILL whatever agent of this test is left; assert none survives."""
    runner("lock", env={"AWSV_AGENT": "auto"})
    for pid in agent_pids(mark):
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not agent_pids(mark)), "an agent survived its test"


def make_world(home: Path, runtime: Path | None = None) -> World:
    mark = uuid.uuid4().hex
    count = home.parent / "asked"
    script = home.parent / "passphrase-command"
    script.write_text(COUNTER.format(count=count, passphrase=TEST_PASSPHRASE))
    script.chmod(0o700)
    env = base_env(home)
    env.update(AWSV_PASSPHRASE_COMMAND=str(script), AWSV_TEST_MARK=mark, AWSV_AGENT="auto")
    if runtime is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime)
    world = World(home, env, AwsvRunner(env), count, mark)
    world.ok("add", "prod", input=f"{KEY_ID}\n{SECRET}\n")
    return world


def agent_threads(pid: int) -> int:
    """How many threads the process has now (from /proc): a pinned connection holds one."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def agent_rss_kib(pid: int) -> int:
    """The process's resident memory in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")
