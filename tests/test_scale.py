"""What keeps cost flat as the work grows (issue 13): the config cache, the plain config
reader, bulk vault operations, lock's view of a zombie, and cheap shell detection.

No timing here (bench/ measures); each test checks the mechanism: how many
times a file is parsed, decrypted or written, that the quick reader agrees
with configparser, that a zombie counts as gone, that the /proc walk agrees
with shellingham in real process trees.
"""

from __future__ import annotations

import configparser
import os
import random
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from awsv.agent.server import Agent
from awsv.commands.unlock import process_gone
from awsv.config import AwsConfig, ConfigCache
from awsv.config_lines import read_plain
from awsv.errors import ConfigError
from awsv.vault import file_format
from awsv.vault.file import FileVault
from tests.conftest import HELPER

if TYPE_CHECKING:
    from awsv.agent.client import AgentVault, Connection

# -- the agent's config cache -------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _settled(path: Path, text: str, age: float = 60.0) -> None:
    """Write `text` to `path` and date it `age` seconds back (mtime; ctime is now)."""
    path.write_text(text)
    past = time.time() - age
    os.utime(path, (past, past))


def test_config_cache_parses_once_while_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "config"
    _settled(path, "[profile a]\nregion = eu-west-1\n")
    clock = Clock(time.time() + 10)  # ctime (set by utime) is now: look from 10 s later
    cache = ConfigCache(clock)
    env = {"AWS_CONFIG_FILE": str(path), "HOME": str(tmp_path)}
    first = cache.load(env)
    assert cache.load(env) is first and cache.load(env) is first
    assert cache.parses == 1

    # Same size, same mtime (put back by utime), new content: ctime gives it away.
    st = path.stat()
    path.write_text("[profile b]\nregion = eu-west-1\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    clock.now = time.time() + 10
    assert cache.load(env).names() == ["b"]
    assert cache.parses == 2

    # Replaced by rename (a new inode), as editors save.
    other = tmp_path / "config.new"
    _settled(other, "[profile c]\n")
    os.replace(other, path)
    clock.now = time.time() + 10
    assert cache.load(env).names() == ["c"]
    assert cache.parses == 3


def test_a_racily_fresh_config_is_parsed_every_time(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("[profile a]\n")
    clock = Clock(time.time())  # the file was written just now
    cache = ConfigCache(clock)
    env = {"AWS_CONFIG_FILE": str(path)}
    cache.load(env)
    cache.load(env)
    assert cache.parses == 2
    clock.now += ConfigCache.RACY_SECONDS + 1
    cache.load(env)
    cache.load(env)
    assert cache.parses == 3


def test_config_cache_keeps_errors_and_missing_files_uncached(tmp_path: Path) -> None:
    path = tmp_path / "config"
    env = {"AWS_CONFIG_FILE": str(path)}
    cache = ConfigCache(Clock(time.time() + 10))
    assert cache.load(env).names() == []
    _settled(path, "region = x\n")
    with pytest.raises(ConfigError):
        cache.load(env)
    with pytest.raises(ConfigError):
        cache.load(env)
    _settled(path, "[profile fixed]\n")
    assert cache.load(env).names() == ["fixed"]


def test_config_cache_remembers_a_few_files(tmp_path: Path) -> None:
    cache = ConfigCache(Clock(time.time() + 10))
    envs = []
    for i in range(ConfigCache.ENTRIES + 1):
        path = tmp_path / f"config{i}"
        _settled(path, f"[profile p{i}]\n")
        envs.append({"AWS_CONFIG_FILE": str(path)})
    for env in envs[:-1] * 3:
        cache.load(env)
    assert cache.parses == ConfigCache.ENTRIES
    cache.load(envs[-1])  # one more file: the least recently used goes
    cache.load(envs[-2])
    assert cache.parses == ConfigCache.ENTRIES + 1
    cache.load(envs[0])
    assert cache.parses == ConfigCache.ENTRIES + 2


# -- the plain config reader agrees with configparser ------------------------------------------


def _configparser_view(text: str) -> list[tuple[str, dict[str, str]]] | str:
    parser = configparser.RawConfigParser(default_section="\0no default section\0", interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        return type(exc).__name__
    return [(s, {k: (v or "").strip() for k, v in parser.items(s)}) for s in parser.sections()]


_LINES = [
    "[profile a]",
    "[profile b]",
    "[default]",
    "[ profile  spaced ]",
    "[sso-session s]",
    "[profile a]",
    "region = eu-west-1",
    "Region=us-east-1",
    "role_arn = arn:aws:iam::1:role/R",
    "k = v = w",
    "empty =",
    "  indented = x",
    "\tcontinued",
    "key: value",
    "a:b = c",
    "= novalue",
    "# comment",
    "; comment",
    "   # indented comment",
    "",
    "   ",
    "[broken",
    "[x] trailing",
    "[]",
    "[a]b]",
    "noequals",
    "value # not a comment",
    "UPPER = Case",
    "dup = 1",
    "dup = 2",
    "\ufeff[profile bom]",
    "s3 =",
    "  max_concurrent_requests = 20",
    '[profile "quoted name"]',
    "x = \r",
    "y = tab\tinside",
]


@pytest.mark.parametrize("seed", range(300))
def test_plain_reader_matches_configparser_or_gives_way(seed: int) -> None:
    rng = random.Random(seed)
    text = "\n".join(rng.choice(_LINES) for _ in range(rng.randint(0, 14)))
    if rng.random() < 0.3:
        text = "[profile start]\n" + text
    ours = read_plain(text)
    theirs = _configparser_view(text)
    if ours is not None:
        assert ours == theirs, text


def test_plain_reader_takes_the_common_shape() -> None:
    text = (
        "# my config\n[default]\nregion = eu-west-1\n\n[profile dev]\nrole_arn = arn:aws:iam::1:role/R\n"
        "source_profile = default\r\n; note\n[sso-session corp]\nsso_region = us-east-1\n"
    )
    assert read_plain(text) == _configparser_view(text)
    assert read_plain(text) is not None
    parsed = AwsConfig.parse(text)
    assert parsed.names() == ["default", "dev"] and parsed.sso_sessions == {"corp": {"sso_region": "us-east-1"}}


@pytest.mark.parametrize(
    "text",
    [
        "[profile a]\nregion = x\n  continued\n",  # a continuation line
        "[profile a]\ns3 =\n  max_concurrent_requests = 20\n",  # a nested block
        "[profile a]\nregion: x\n",  # the other delimiter
        "region = x\n",  # before any section
        "[profile a]\n[profile a]\n",  # duplicate section: configparser's error
        "[profile a]\nx = 1\nX = 2\n",  # duplicate key: configparser's error
    ],
)
def test_plain_reader_gives_way_to_configparser(text: str) -> None:
    assert read_plain(text) is None
    expected = _configparser_view(text)
    if isinstance(expected, str):
        with pytest.raises(ConfigError):
            AwsConfig.parse(text)
    else:
        AwsConfig.parse(text)  # configparser's reading, as before


# -- bulk vault operations: one decryption, one write --------------------------------------------


def _counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Count calls of `owner.name` while still calling it (a spy, not a fake)."""
    calls: list[int] = []
    real = getattr(owner, name)

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


@pytest.fixture
def session_vault(tmp_path: Path) -> FileVault:
    vault = FileVault(tmp_path / "awsv" / "vault.awsv", passphrase_provider=lambda creating: "scale test")
    for i in range(40):
        vault.set(f"session/{i:02d}", {"i": i})
    vault.set("key/base", {"k": 1})
    return vault


def test_file_vault_bulk_read_decrypts_once(session_vault: FileVault, monkeypatch: pytest.MonkeyPatch) -> None:
    decrypts = _counting(monkeypatch, file_format, "decrypt")
    items = session_vault.items("session/")
    assert len(items) == 40 and items["session/07"] == {"i": 7}
    assert len(decrypts) == 1


def test_file_vault_bulk_delete_writes_once(session_vault: FileVault, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = _counting(monkeypatch, FileVault, "_write")
    gone = session_vault.delete_many([f"session/{i:02d}" for i in range(0, 40, 2)] + ["session/none"])
    assert gone == [f"session/{i:02d}" for i in range(0, 40, 2)]
    assert len(writes) == 1
    assert session_vault.list() == ["key/base", *[f"session/{i:02d}" for i in range(1, 40, 2)]]
    assert session_vault.delete_many(["session/none"]) == [] and len(writes) == 1  # nothing: no write


def test_agent_serves_bulk_operations(session_vault: FileVault, tmp_path: Path) -> None:
    agent = Agent(
        session_vault,
        backend="file",
        identity="file:x",
        display="x",
        idle=60,
        max_life=60,
        socket_path=str(tmp_path / "unused.sock"),
    )
    reply = agent.handle({"op": "items", "prefix": "session/"})
    assert reply["ok"] and len(reply["items"]) == 40
    reply = agent.handle({"op": "delete_many", "names": ["session/00", "session/01", "session/zz"]})
    assert reply == {"ok": True, "deleted": ["session/00", "session/01"]}
    assert agent.handle({"op": "delete_many", "names": "session/02"})["ok"] is False
    assert agent.handle({"op": "items", "prefix": 3})["ok"] is False
    assert len(session_vault.items("session/")) == 38


# -- lock: a zombie is gone ---------------------------------------------------------------------


def test_a_zombie_counts_as_gone() -> None:
    """A child of `sleep` (which never reaps) stays a zombie: kill(pid, 0) succeeds, yet it is gone.

    The child exits when the pipe's write end closes, which happens at the
    parent's exec (the end is close-on-exec): so it dies only once `sleep`,
    which never waits for children, is its parent.
    """
    code = (
        "import os, sys\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.close(w); os.read(r, 1); os._exit(0)\n"
        "os.close(r)\n"
        "print(pid, flush=True)\n"
        "os.execvp('sleep', ['sleep', '30'])\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child never became a zombie"
            time.sleep(0.01)
        os.kill(pid, 0)  # what the old check saw: "alive"
        assert process_gone(pid)
        assert not process_gone(parent.pid)  # a live process is not gone
    finally:
        parent.kill()
        parent.wait()
    assert process_gone(parent.pid)  # reaped: no such process


# -- shell detection without shellingham --------------------------------------------------------

_PROBE = f"""
import os, sys, json
sys.path.insert(0, {str(HELPER)!r})
from awsv.shells.ancestry import shell_from_ancestry
from awsv.shells.detect import detect_shell
try:
    full = detect_shell(os.environ)
except Exception as exc:
    full = type(exc).__name__
print(json.dumps([shell_from_ancestry(os.environ), full]))
"""


def _probe_under(shell: list[str], env_shell: str | None, *, via_python: bool = False) -> tuple[str | None, str]:
    import json

    probe = [sys.executable, "-c", _PROBE]
    inner = shlex.join(probe)
    if via_python:  # a Python process between the shell and the probe
        inner = shlex.join([sys.executable, "-c", f"import subprocess; subprocess.run({probe!r})"])
    status = "$status" if shell[0] == "fish" else "$?"
    env = {k: v for k, v in os.environ.items() if k != "SHELL"}
    if env_shell is not None:
        env["SHELL"] = env_shell
    r = subprocess.run(
        [*shell, "-c", f"{inner}; exit {status}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        start_new_session=True,
        check=True,
    )
    cheap, full = json.loads(r.stdout.strip().splitlines()[-1])
    return cheap, full


@pytest.mark.parametrize(
    ("shell", "env_shell"),
    [
        (["bash"], "/bin/zsh"),
        (["zsh"], "/bin/bash"),
        (["fish"], None),
        (["dash"], "/bin/bash"),
        (["bash", "--norc"], None),
    ],
)
def test_ancestry_agrees_with_shellingham(shell: list[str], env_shell: str | None) -> None:
    cheap, full = _probe_under(shell, env_shell)
    if full in ("bash", "zsh", "fish"):
        assert cheap == full
    else:
        assert cheap is None  # an error in the full CLI: the fast path leaves it to it
    if shell[0] in ("bash", "zsh", "fish"):
        assert cheap == shell[0]  # and it did answer


def test_ancestry_looks_through_a_python_process() -> None:
    cheap, full = _probe_under(["zsh"], "/bin/bash", via_python=True)
    assert cheap == full == "zsh"


@pytest.mark.parametrize("env_shell", ["/usr/bin/fish", "/bin/dash", ""])
def test_ancestry_of_a_login_shell_follows_shell_like_shellingham(env_shell: str) -> None:
    """A login shell (argv[0] "-zsh") is named by $SHELL, as shellingham does."""
    cheap, full = _probe_under(["bash", "-c", 'exec -a -zsh zsh "$@"', "x"], env_shell)
    if full in ("bash", "zsh", "fish"):
        assert cheap == full
    else:
        assert cheap is None


def test_known_shell_names_match_shellingham() -> None:
    from shellingham._core import SHELL_NAMES  # type: ignore[import-untyped]

    from awsv.shells.ancestry import KNOWN_SHELL_NAMES

    assert set(SHELL_NAMES) == KNOWN_SHELL_NAMES


# -- the agent client's bulk operations, over a real socket -------------------------------------


def _agent_vault_over_a_socket(vault: FileVault, tmp_path: Path, version: int) -> tuple[AgentVault, Agent]:
    """An AgentVault talking to an in-process Agent over a socketpair (real framing, real server code)."""
    import socket
    import threading

    from awsv.agent.client import AgentVault, Connection

    agent = Agent(
        vault,
        backend="file",
        identity="file:x",
        display="x",
        idle=600,
        max_life=600,
        socket_path=str(tmp_path / "unused.sock"),
    )
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    threading.Thread(target=agent._serve_connection, args=(theirs,), daemon=True).start()
    return AgentVault(Connection(ours, "socketpair"), {"backend": "file", "version": version}), agent


def test_agent_vault_bulk_delete_goes_in_batches(
    session_vault: FileVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awsv.agent import client

    monkeypatch.setattr(client, "DELETE_BATCH", 7)
    requests = _counting(monkeypatch, client.Connection, "request")
    writes = _counting(monkeypatch, FileVault, "_write")
    remote, _ = _agent_vault_over_a_socket(session_vault, tmp_path, version=2)
    items = remote.items("session/")
    assert len(items) == 40 and len(requests) == 1
    gone = remote.delete_many([*items, "session/none"])
    assert gone == sorted(items)
    assert len(requests) == 1 + 6 and len(writes) == 6  # 41 names in batches of 7
    assert session_vault.list() == ["key/base"]


def test_agent_vault_falls_back_for_an_older_agent(
    session_vault: FileVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent started by an older awsv (protocol 1) has no bulk ops: item by item, same answers."""
    from awsv.agent.client import REQUEST_TIMEOUT

    remote, _ = _agent_vault_over_a_socket(session_vault, tmp_path, version=1)
    ops: list[str] = []
    real = type(remote._conn).request

    def spy(self: Connection, message: dict[str, Any], *, timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        ops.append(str(message["op"]))
        return real(self, message, timeout=timeout)

    monkeypatch.setattr(type(remote._conn), "request", spy)
    assert len(remote.items("session/")) == 40
    assert remote.delete_many(["session/00", "session/99"]) == ["session/00"]
    assert "items" not in ops and "delete_many" not in ops
