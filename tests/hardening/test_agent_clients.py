"""Hostile clients of the agent: silent, huge, malformed, trickling, and another uid.

Each case talks to a real agent over its real socket; afterwards the agent
must still answer `awsv list` without asking for the passphrase again, and
its thread count must come back down (nothing pinned).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from awsv.agent.server import FIRST_REQUEST_TIMEOUT, FRAME_TIMEOUT, MAX_CONNECTIONS
from tests.hardening.conftest import Tally, size
from tests.support.agent_world import World, agent_threads, cleanup_agents, make_world
from tests.support.polling import wait_for

pytestmark = pytest.mark.slow


def _frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def _send(path: Path, data: bytes, *, close: bool = True) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(path))
    try:
        s.sendall(data)
    except OSError:
        pass  # the agent may drop a huge frame before it is all sent
    if close:
        s.close()
    return s


def _closed_by_agent(s: socket.socket, within: float) -> bool:
    s.settimeout(0.2)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if s.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def _hello(path: Path) -> int | None:
    """The agent's pid from a hello over a fresh connection (the real client's code), or None."""
    from awsv.agent import protocol

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        protocol.send(s, {"op": "hello", "version": protocol.PROTOCOL_VERSION})
        reply = protocol.recv(s)
    return reply.get("pid") if reply and reply.get("ok") else None


CASES: dict[str, Callable[[Path], None]] = {
    "garbage bytes": lambda p: _send(p, os.urandom(4096)) and None,
    "length 4 GiB": lambda p: _send(p, b"\xff\xff\xff\xff" + b"x" * 100) and None,
    "frame of 2 MiB": lambda p: _send(p, _frame(b"[" + b"1," * (1 << 20) + b"1]")) and None,
    "not JSON": lambda p: _send(p, _frame(b"\x00\x01not json")) and None,
    "JSON array": lambda p: _send(p, _frame(b"[1,2,3]")) and None,
    "nested 100k deep": lambda p: _send(p, _frame(b"[" * 100_000)) and None,
    "object nested 100k deep": lambda p: _send(p, _frame(b'{"a":' * 100_000)) and None,
    "unknown op": lambda p: _send(p, _frame(b'{"op":"format-disk"}')) and None,
    "get without a name": lambda p: _send(p, _frame(b'{"op":"get"}')) and None,
    "set of a non-object": lambda p: _send(p, _frame(b'{"op":"set","name":"x","item":7}')) and None,
    "truncated frame": lambda p: _send(p, _frame(b'{"op":"hello"}')[:-3]) and None,
    "invalid UTF-8": lambda p: _send(p, _frame(b'{"op":"\xff\xfe"}')) and None,
}


@pytest.mark.hardening_row("malformed and huge agent clients")
def test_malformed_and_huge_clients(agent_world: World, tally: Tally) -> None:
    w = agent_world
    w.ok("list")
    pid, asked = w.agent_pid(), w.asked()
    for _ in range(size(1, 10)):
        for name, case in CASES.items():
            case(w.socket_path)
            tally.attempt(_hello(w.socket_path) == pid, f"{name}: the agent stopped answering")
    served = w.awsv("list")
    assert served.returncode == 0 and w.asked() == asked and w.agent_pid() == pid, served.stderr
    assert wait_for(lambda: agent_threads(pid) <= 3, timeout=FIRST_REQUEST_TIMEOUT + 10)


@pytest.mark.hardening_row("silent and trickling agent clients")
def test_silent_and_trickling_clients(agent_world: World, tally: Tally) -> None:
    w = agent_world
    w.ok("list")
    pid, asked = w.agent_pid(), w.asked()
    for _ in range(size(1, 5)):
        silent = [_send(w.socket_path, b"", close=False) for _ in range(MAX_CONNECTIONS * 2)]
        trickler = _send(w.socket_path, b"\x00", close=False)
        started = time.monotonic()
        for i in range(int(FRAME_TIMEOUT * 4)):  # a byte every 0.5 s: within each recv's patience
            try:
                trickler.sendall(b"\x00" if i < 2 else b"x")
            except OSError:
                break
            time.sleep(0.5)  # the trickle's pace is the thing under test, not a wait for a state
        cut = _closed_by_agent(trickler, FRAME_TIMEOUT + 10)
        tally.attempt(cut and time.monotonic() - started < FRAME_TIMEOUT * 4 + 10, "trickler not cut off")
        for s in silent:
            tally.attempt(_closed_by_agent(s, FIRST_REQUEST_TIMEOUT + 10), "silent client kept")
            s.close()
        trickler.close()
        tally.attempt(wait_for(lambda: agent_threads(pid) <= 3, timeout=10), "threads pinned")
        served = w.awsv("list")
        tally.attempt(served.returncode == 0 and w.asked() == asked, served.stderr[-200:])


ANOTHER_UID = """
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
body = json.dumps({"op": sys.argv[2], "name": "key/prod"}).encode()
s.sendall(struct.pack(">I", len(body)) + body)
head = s.recv(4)
n = struct.unpack(">I", head)[0]
data = b""
while len(data) < n:
    data += s.recv(n - len(data))
print(json.loads(data)["ok"], json.loads(data).get("error", {}).get("type"))
"""


@pytest.mark.hardening_row("another uid against the agent")
def test_another_uid_is_refused_for_every_op(tmp_path: Path, tally: Tally) -> None:
    """As `nobody`, through a world-writable socket (only SO_PEERCRED stands in the way)."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root, to become another uid (CI runs as root)")
    runtime = Path(tempfile.mkdtemp(prefix="awsv-hardening-", dir="/tmp"))
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    w = make_world(home, runtime=runtime)
    try:
        w.ok("list")
        runtime.chmod(0o711)
        w.socket_path.parent.chmod(0o711)
        w.socket_path.chmod(0o666)
        ops = ["hello", "status", "get", "list", "set", "delete", "lock", "deliver"]
        for _ in range(size(1, 3)):
            for op in ops:
                out = subprocess.run(
                    ["/usr/bin/python3", "-c", ANOTHER_UID, str(w.socket_path), op],
                    capture_output=True,
                    text=True,
                    timeout=20,
                    cwd="/",
                    user=65534,
                    group=65534,
                    extra_groups=[],
                    env={"PATH": "/usr/bin:/bin"},
                )
                tally.attempt(out.stdout.split() == ["False", "AgentRefused"], f"{op}: {out.stdout}{out.stderr[-200:]}")
        w.socket_path.chmod(0o600)
        w.ok("list")  # still serving its own user, with the key it had
        assert w.asked() == 1
    finally:
        cleanup_agents(w.awsv, w.mark)
        shutil.rmtree(runtime, ignore_errors=True)
