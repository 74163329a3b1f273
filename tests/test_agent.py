"""The vault agent, with real processes: the passphrase is asked once per window.

Every test runs the real CLI (`python -m awsv`) against a real file vault in
its own HOME and its own XDG_RUNTIME_DIR, so each test has its own agent. The
passphrase comes from a counting AWSV_PASSPHRASE_COMMAND script, so "asked"
means "the script ran". The agents are real detached processes; the `world`
fixture locks them and then kills anything still carrying the test's marker
variable, so no agent outlives its test.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSPHRASE
from tests.support.agent_world import World, alive, cleanup_agents, make_world
from tests.support.keys import KEY_ID, SECRET
from tests.support.moto_server import moto, moto_url  # noqa: F401  (pytest fixtures)
from tests.support.polling import wait_for


@pytest.fixture
def world(home: Path) -> Iterator[World]:
    w = make_world(home)
    try:
        yield w
    finally:
        cleanup_agents(w.awsv, w.mark)


# -- asked once per window ------------------------------------------------------


def test_passphrase_asked_once_across_many_commands(world: World) -> None:
    """Creating the vault asks once and starts the agent; nothing after that asks again."""
    assert world.asked() == 1
    pid = world.agent_pid()
    for _ in range(3):
        assert "prod" in world.ok("list", "--json").stdout
    world.ok("add", "stage", input=f"{KEY_ID}\n{SECRET}\n")
    assert "stage" in world.ok("list").stdout
    world.ok("remove", "--force", "stage")
    assert "stage" not in world.ok("list").stdout
    assert world.asked() == 1
    assert world.agent_pid() == pid  # the same agent served them all


def test_lock_forgets_and_the_next_command_asks_again(world: World) -> None:
    pid = world.agent_pid()
    r = world.ok("lock")
    assert f"pid {pid}" in r.stderr and "forgot" in r.stderr
    assert not alive(pid)
    assert not world.socket_path.exists()
    assert world.status()["unlocked"] is False
    world.ok("list")
    assert world.asked() == 2
    assert world.agent_pid() != pid
    world.ok("lock")
    assert "nothing to lock" in world.ok("lock").stderr


def test_idle_timeout_forgets_but_activity_keeps_it(world: World) -> None:
    world.ok("lock")
    short = {"AWSV_AGENT_IDLE": "4s"}
    world.ok("list", env=short)
    assert world.asked() == 2
    pid = world.agent_pid()
    st = world.status()
    assert st["idle_timeout"] == 4 and st["expires"] == st["idle_expires"]
    first = datetime.fromisoformat(str(st["idle_expires"])).timestamp()
    # Each request moves the idle deadline (status requests do not): keep making
    # requests and read the deadline back from the agent until it has moved 1.5 s,
    # so neither a fast nor a loaded machine depends on a guessed gap.

    def a_request_moved_the_deadline() -> bool:
        world.ok("list", env=short)
        return datetime.fromisoformat(str(world.status()["idle_expires"])).timestamp() >= first + 1.5

    assert wait_for(a_request_moved_the_deadline, timeout=30, step=0.2), "requests did not move the idle deadline"
    later = world.status()
    assert world.asked() == 2 and int(later["pid"]) == pid  # type: ignore[call-overload]
    assert wait_for(lambda: not alive(pid), timeout=20), "the agent outlived its idle timeout"
    assert not world.socket_path.exists()
    world.ok("list", env=short)
    assert world.asked() == 3


def test_maximum_lifetime_ends_even_a_busy_agent(world: World) -> None:
    world.ok("lock")
    before_start = time.monotonic()
    world.ok("list", env={"AWSV_AGENT_MAX": "3s"})
    pid = world.agent_pid()
    busy = 0
    while alive(pid) and time.monotonic() - before_start < 30:
        world.awsv("list")  # keeps it busy: idle never runs out
        busy += 1
        time.sleep(0.3)  # the pace of a busy user, polling `alive` under a 30 s deadline
    assert not alive(pid) and busy >= 1
    # It cannot have gone before its 3 s were up, counted from a moment after before_start.
    assert time.monotonic() - before_start > 3


def test_status_human_and_json(world: World) -> None:
    r = world.ok("unlock", "--status")
    assert r.stdout.startswith("unlocked: file vault ")
    assert "forgets the key at" in r.stdout and "(timeout 15m)" in r.stdout and "(lifetime 8h)" in r.stdout
    st = world.status()
    assert st["backend"] == "file" and st["same_vault"] is True
    assert st["vault"] == str(Path(world.env["XDG_DATA_HOME"]) / "awsv" / "vault.awsv")
    assert st["idle_timeout"] == 900 and st["max_lifetime"] == 8 * 3600
    assert st["socket"] == str(world.socket_path)
    assert isinstance(st["memory_locked"], bool)
    r = world.ok("unlock")
    assert "already unlocked" in r.stderr
    assert world.asked() == 1
    world.ok("lock")
    r = world.ok("unlock", "--status")
    assert r.stdout.startswith("locked: no agent is running")
    r = world.ok("unlock")  # explicit unlock: asks once, starts the agent
    assert "unlocked: the agent" in r.stderr and world.asked() == 2
    assert world.status()["unlocked"] is True


# -- what is protected ------------------------------------------------------------


def test_socket_and_directory_modes(world: World) -> None:
    directory = world.socket_path.parent
    dst, sst = os.lstat(directory), os.lstat(world.socket_path)
    assert stat.S_ISDIR(dst.st_mode) and stat.S_IMODE(dst.st_mode) == 0o700
    assert stat.S_ISSOCK(sst.st_mode) and stat.S_IMODE(sst.st_mode) == 0o600
    assert dst.st_uid == sst.st_uid == os.geteuid()
    assert sorted(os.listdir(directory)) == ["agent.sock"]  # no key, no log, no temp file


def test_a_group_or_world_accessible_directory_is_refused(world: World) -> None:
    world.ok("lock")
    directory = world.socket_path.parent
    directory.chmod(0o755)
    r = world.awsv("unlock")
    assert r.returncode == 1
    assert "accessible by other users" in r.stderr and "chmod 700" in r.stderr
    directory.chmod(0o700)


def test_no_key_material_in_argv_or_environment(world: World) -> None:
    from awsv.vault.file_format import open_with_passphrase

    pid = world.agent_pid()
    vault_file = Path(world.env["XDG_DATA_HOME"]) / "awsv" / "vault.awsv"
    key, _ = open_with_passphrase(vault_file.read_bytes(), TEST_PASSPHRASE)
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert cmdline.split(b"\0")[1:3] == [b"-m", b"awsv.agent"]
    secrets = [
        TEST_PASSPHRASE.encode(),
        key.enc_key,
        key.enc_key.hex().encode(),
        key.to_bytes(),
        key.to_bytes().hex().encode(),
        key.verifier.hex().encode(),
    ]
    for blob in (cmdline, environ):
        for secret in secrets:
            assert secret not in blob
    names = {line.split(b"=", 1)[0] for line in environ.split(b"\0") if line}
    assert not names & {
        b"AWSV_PASSPHRASE_COMMAND",
        b"AWSV_FILE_PASSPHRASE",
        b"AWS_VAULT_FILE_PASSPHRASE",
        b"AWS_SECRET_ACCESS_KEY",
    }
    # Detached: its own session, standard streams on /dev/null, cwd /.
    assert os.getsid(pid) != os.getsid(0)
    for fd in (0, 1, 2):
        assert os.readlink(f"/proc/{pid}/fd/{fd}") == "/dev/null"
    assert os.readlink(f"/proc/{pid}/cwd") == "/"


NOBODY_CLIENT = r"""
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("PERMISSION"); sys.exit(0)
body = json.dumps({"op": "list"}).encode()
try:
    s.sendall(struct.pack(">I", len(body)) + body)
except OSError:
    pass
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print("REPLY " + data[4:].decode())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to uid nobody needs root")
def test_another_uid_is_refused(tmp_path: Path) -> None:
    """As `nobody`: first the 0600 socket stops it; made world-writable, SO_PEERCRED still does."""
    runtime = Path(tempfile.mkdtemp(prefix="awsv-agent-test-", dir="/tmp"))
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    w = make_world(home, runtime=runtime)
    try:
        w.agent_pid()
        runner = [
            "setpriv",
            "--reuid",
            "nobody",
            "--regid",
            "nogroup",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            NOBODY_CLIENT,
            str(w.socket_path),
        ]
        # Reachable directories (for this test only), socket still 0600: the file mode refuses.
        runtime.chmod(0o711)
        w.socket_path.parent.chmod(0o711)
        r = subprocess.run(runner, capture_output=True, text=True, timeout=30, check=False)
        assert r.stdout.strip() == "PERMISSION", r.stderr
        # World-writable socket: the connection is made, and the agent refuses it by uid.
        w.socket_path.chmod(0o666)
        r = subprocess.run(runner, capture_output=True, text=True, timeout=30, check=False)
        assert r.stdout.startswith("REPLY "), r.stderr
        reply = json.loads(r.stdout[len("REPLY ") :])
        assert reply["ok"] is False and reply["error"]["type"] == "AgentRefused"
        assert "refuses connections from uid 65534" in reply["error"]["message"]
        assert "names" not in reply and "prod" not in r.stdout
        # The agent carries on serving its own user.
        w.socket_path.chmod(0o600)
        runtime.chmod(0o700)
        w.socket_path.parent.chmod(0o700)
        assert "prod" in w.ok("list").stdout and w.asked() == 1
    finally:
        cleanup_agents(w.awsv, w.mark)
        shutil.rmtree(runtime, ignore_errors=True)


def test_something_else_at_the_socket_path_is_not_trusted(world: World) -> None:
    """The client checks what the socket path is before talking to it, then falls back."""
    world.ok("lock")
    world.socket_path.write_text("not a socket")
    r = world.ok("list")
    assert "not an awsv agent socket of yours" in r.stderr
    assert world.asked() == 2  # fell back to the passphrase
    assert world.status()["unlocked"] is True  # and the new agent took the path over


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a socket to another uid needs root")
def test_a_socket_of_another_user_is_not_trusted(world: World) -> None:
    world.ok("lock")
    impostor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    impostor.bind(str(world.socket_path))
    impostor.listen(1)
    try:
        os.chown(world.socket_path, 65534, 65534)
        r = world.ok("list")
        assert "not an awsv agent socket of yours" in r.stderr
        assert world.asked() == 2
    finally:
        impostor.close()


# -- failures: fall back, never hang ------------------------------------------------


def _has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` holds a file descriptor on `path` (from /proc)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == str(path):
                return True
        except OSError:
            continue
    return False


def _reads_a_socket(pid: int) -> bool:
    try:
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        return "unix_stream" in wchan or "poll" in wchan  # a socket timeout reads through poll
    except OSError:
        return False


def test_agent_killed_mid_request(world: World) -> None:
    """SIGKILL while the agent waits for the vault lock: one clear error, then a working fallback."""
    pid = world.agent_pid()
    lock_path = Path(world.env["XDG_DATA_HOME"]) / "awsv" / "vault.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the agent's write will wait for this
        key_file = world.home.parent / "key-input"
        key_file.write_text(f"{KEY_ID}\n{SECRET}\n")
        with open(key_file) as stdin:
            proc = subprocess.Popen(
                [sys.executable, "-m", "awsv", "add", "stage"],
                env=world.env,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        # Wait until the agent has the vault's lock file open (it opens it only to
        # write, and waits there for the lock we hold): the client's `set` arrived.
        assert wait_for(lambda: _has_open(pid, lock_path), timeout=30), "the agent never tried to write"
        assert wait_for(lambda: _reads_a_socket(proc.pid), timeout=30), "the client is not waiting for the answer"
        assert proc.poll() is None
        os.kill(pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(fd)
    assert proc.returncode == 1
    assert "awsv: error: the awsv agent stopped before answering (set)" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2  # error + hint
    assert world.socket_path.exists()  # a killed agent leaves its socket behind
    r = world.ok("list")  # nobody listens there: ask the passphrase command again
    assert "prod" in r.stdout and "stage" not in r.stdout  # the interrupted write never happened
    assert world.asked() == 2
    assert world.agent_pid() != pid


def test_hung_agent_costs_a_timeout_and_a_warning(world: World) -> None:
    pid = world.agent_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        r = world.ok("list", timeout=30)
        elapsed = time.monotonic() - started
        assert "did not answer" in r.stderr and "without the agent" in r.stderr
        assert "prod" in r.stdout and world.asked() == 2
        assert elapsed < 15
    finally:
        os.kill(pid, signal.SIGCONT)
    # The new agent replaced the socket; the old one notices and exits.
    assert wait_for(lambda: not alive(pid), timeout=5)
    assert world.agent_pid() != pid


def test_removing_the_socket_stops_the_agent(world: World) -> None:
    pid = world.agent_pid()
    world.socket_path.unlink()
    assert wait_for(lambda: not alive(pid), timeout=5)


def test_sigterm_stops_the_agent_and_removes_its_socket(world: World) -> None:
    pid = world.agent_pid()
    os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not alive(pid), timeout=5)
    assert not world.socket_path.exists()


# -- AWSV_AGENT ------------------------------------------------------------------------


def test_agent_off_never_uses_or_starts_one(world: World) -> None:
    off = {"AWSV_AGENT": "off"}
    world.ok("list", env=off)
    world.ok("list", env=off)
    assert world.asked() == 3  # the running agent was ignored
    world.ok("lock")
    world.ok("list", env=off)
    assert world.status()["unlocked"] is False
    r = world.awsv("unlock", env=off)
    assert r.returncode == 1 and "AWSV_AGENT=off" in r.stderr


def test_environment_passphrase_starts_an_agent_only_when_on(world: World) -> None:
    world.ok("lock")
    env_pw = {"AWSV_PASSPHRASE_COMMAND": None, "AWSV_FILE_PASSPHRASE": TEST_PASSPHRASE}
    world.ok("list", env=env_pw)  # type: ignore[arg-type]
    assert world.status()["unlocked"] is False  # auto: scripts and CI leave no process behind
    world.ok("list", env={**env_pw, "AWSV_AGENT": "on"})  # type: ignore[arg-type]
    assert world.status()["unlocked"] is True
    r = world.awsv("list", env={"AWSV_AGENT": "sometimes"})
    assert r.returncode == 2 and "AWSV_AGENT" in r.stderr


def test_an_agent_for_another_vault_is_not_used(world: World, tmp_path: Path) -> None:
    """AWSV_FILE_DIR names another vault: the agent's is not it, so the command asks."""
    other = {"AWSV_FILE_DIR": str(tmp_path / "other-vault")}
    world.ok("add", "elsewhere", input=f"{KEY_ID}\n{SECRET}\n", env=other)
    assert world.asked() == 2
    listed = world.ok("list", env=other).stdout
    assert "elsewhere" in listed and "prod" not in listed
    assert world.asked() == 2  # the new agent now serves the other vault
    assert world.status(env=other)["same_vault"] is True
    assert world.status()["same_vault"] is False


# -- credential_process through the agent -------------------------------------------------


def test_credential_process_asks_once(world: World, moto: str) -> None:
    """The AWS CLI calling `awsv export --format credential-process` repeatedly: one passphrase."""
    from tests.support.moto_server import create_user_with_key

    key_id, secret = create_user_with_key(moto, "alice")
    world.ok("add", "base", "--force", input=f"{key_id}\n{secret}\n")
    config = Path(world.env["AWS_CONFIG_FILE"])
    config.write_text(
        "[profile base]\nregion = eu-west-1\n\n"
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\n"
        f"[profile viaawsv]\ncredential_process = {sys.executable} -m awsv export "
        "--format credential-process admin\nregion = eu-west-1\n"
    )
    world.ok("lock")
    before = world.asked()
    env = {**world.env, "AWS_ENDPOINT_URL": moto}
    for _ in range(3):
        r = subprocess.run(
            ["aws", "sts", "get-caller-identity", "--profile", "viaawsv", "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            start_new_session=True,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        assert ":assumed-role/Admin/" in json.loads(r.stdout)["Arn"]
    assert world.asked() == before + 1


# -- the protocol ------------------------------------------------------------------------


def test_garbage_on_the_socket_does_not_kill_the_agent(world: World) -> None:
    pid = world.agent_pid()
    for payload in (b"\xff\xff\xff\xffnot json", struct.pack(">I", 5) + b"[1,2]", b"\x00\x00"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(str(world.socket_path))
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        try:
            assert s.recv(100) == b""  # dropped without an answer
        except ConnectionResetError:
            pass  # dropped with our bytes still unread: the same
        s.close()
    assert alive(pid)
    assert "prod" in world.ok("list").stdout and world.asked() == 1
