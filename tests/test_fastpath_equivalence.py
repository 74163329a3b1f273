"""The fast path and the full CLI print the same thing for every spelling, or the fast path stays out.

`awsv.fastpath` parses its few command lines by hand, next to argparse in
`awsv.commands`. Instead of deriving one from the other, this module feeds a
table of spellings — every one the fast path accepts, and near-misses it must
leave alone — to both: once with the agent running and holding a cached
session (the fast path answers what it accepts), once with AWSV_AGENT=off
(always the full CLI). Exit status, stdout and stderr must be identical, on a
pipe and on a terminal, for every shell, quiet or not. For the accepted
spellings the test also checks, from `-X importtime`, that the fast path
really answered (no `awsv.cli` loaded), so the comparison is not vacuous.

What would make these tests fail: the fast path printing code to a terminal
(the full CLI refuses), a `--quiet` the fast path ignores (stderr differs), an
option it misreads (stdout differs), or it claiming a spelling it does not
understand. `test_no_secret_reaches_the_agent` listens on the agent's socket
with a stand-in (the only stand-in here: it records what a client sends) and
fails if any secret value from the client's environment crosses the socket.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSPHRASE, base_env
from tests.support.agent_world import COUNTER, cleanup_agents
from tests.support.hot_path import Hot, imported_modules, setup_world
from tests.support.moto_server import moto_url  # noqa: F401  (fixture)

SHELLS = ("bash", "zsh", "fish")

#: Spellings the fast path answers when the agent has a cached session ("S": each shell).
ACCEPTED: list[list[str]] = [
    ["use", "admin", "--shell", "S"],
    ["use", "--shell", "S", "admin"],
    ["use", "admin", "-s", "S"],
    ["use", "--shell=S", "admin"],
    ["use", "admin", "--shell", "S", "--quiet"],
    ["use", "-q", "--shell", "S", "admin"],
    ["use", "admin", "--shell", "S", "--no-prompt"],
    # the refresh hooks' own spelling, with and without --region
    ["use", "--no-prompt", "--quiet", "--shell", "S", "--", "admin"],
    ["use", "--no-prompt", "--quiet", "--shell", "S", "--region", "eu-west-1", "--", "admin"],
    ["use", "admin", "--region=ap-south-1", "--shell", "S"],
    ["export", "--format", "credential-process", "admin"],
    ["export", "--format=credential-process", "admin"],
    ["export", "admin", "--format", "credential-process"],
    ["exec", "-j", "admin"],
    ["exec", "admin", "--json"],
    # aws-vault's name for the credential_process document
    ["export", "--format", "json", "admin"],
    ["export", "--format=json", "admin"],
    # aws-vault's global --prompt, before the command
    ["--prompt", "terminal", "use", "admin", "--shell", "S"],
    ["--prompt=terminal", "export", "--format", "json", "admin"],
]

#: Spellings the fast path must leave to the full CLI (or answer identically).
NEAR_MISSES: list[list[str]] = [
    ["use", "admin", "--shell"],
    ["use", "admin", "--shell", "-q"],
    ["use", "admin", "--shell="],
    ["use", "admin", "--shell", "tcsh"],
    ["use", "admin", "--shell", "/bin/S"],
    ["use", "admin", "other", "--shell", "S"],
    ["use", "--shell", "S", "--", "admin", "other"],
    ["use", "--shell", "S", "admin", "--", "admin"],
    ["use", "--shell", "S", "--", "-q"],
    ["use", "admin", "--shell", "S", "--region", "not a region!"],
    ["use", "admin", "--shell", "S", "--region"],
    ["use", "admin", "--shell", "S", "--region", "--quiet"],
    ["use", "admn", "--shell", "S"],
    ["use", "admin", "--sh", "S"],
    ["use", "admin", "-qs", "S"],
    ["use", "admin", "--shell", "S", "--bogus"],
    ["use", "base", "--shell", "S"],
    ["export", "--format", "credential-process"],
    ["export", "--format", "credential-process", "admin", "extra"],
    ["export", "--format", "ini", "admin"],
    ["exec", "-j", "admin", "extra"],
    ["exec", "-j", "-j", "admin"],
    ["export", "--format", "env-json", "admin"],
    ["export", "admin", "-f", "credential-process"],
    ["--prompt", "nonsense", "use", "admin", "--shell", "S"],
    ["--prompt", "use", "admin", "--shell", "S"],
]


def _with_shell(word: str, shell: str) -> str:
    return shell if word == "S" else word[:-1] + shell if word.endswith(("=S", "/S")) else word


def _expand(table: list[list[str]]) -> list[list[str]]:
    """Each spelling once per shell when it names one ("S"), else once."""
    out: list[list[str]] = []
    for argv in table:
        if any(_with_shell(w, "x") != w for w in argv):
            out += [[_with_shell(w, shell) for w in argv] for shell in SHELLS]
        else:
            out.append(argv)
    return out


_SPAN = re.compile(r"\(in (?:\d+ ?h ?)?\d+ ?m(?:in)?\)|\(in <1m\)")


def _comparable_stderr(stderr: str) -> str:
    """stderr without `-X importtime` lines and with the minutes left blurred (the clock moves)."""
    lines = [line for line in stderr.splitlines() if not line.startswith("import time:")]
    return _SPAN.sub("(in N)", "\n".join(lines))


def _run_on_pty(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run `argv` with stdout on a terminal (stderr on a pipe); exit status, stdout, stderr."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
    finally:
        os.close(slave)
    out = bytearray()
    errs: list[bytes] = []
    stderr = proc.stderr
    assert stderr is not None
    reader = threading.Thread(target=lambda: errs.append(stderr.read()))
    reader.start()
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError(f"{argv}: no output on the terminal within 60 s")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    rc = proc.wait(timeout=60)
    reader.join(timeout=60)
    return rc, out.decode(), errs[0].decode() if errs else ""


def _piped(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`argv` with stdout and stderr on pipes, no stdin, in a session of its own (no terminal)."""
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


def run_awsv(hot: Hot, args: list[str], *, agent: bool, tty: bool) -> tuple[int, str, str, set[str]]:
    """`python -X importtime -m awsv ARGS`; exit status, stdout, comparable stderr, modules loaded."""
    env = {**hot.env, "AWSV_AGENT": "auto" if agent else "off"}
    argv = [sys.executable, "-X", "importtime", "-m", "awsv", *args]
    if tty:
        rc, out, err = _run_on_pty(argv, env)
    else:
        r = _piped(argv, env)
        rc, out, err = r.returncode, r.stdout, r.stderr
    return rc, out, _comparable_stderr(err), imported_modules(err)


@pytest.fixture(scope="module")
def hot(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hot]:
    """One world for the module: a file vault, the agent running, a cached session for admin.

    The spellings only read it (none changes the vault or the agent), so
    sharing it keeps a table of a hundred command lines affordable.
    """
    base = tmp_path_factory.mktemp("equivalence")
    home = base / "home"
    (home / ".aws").mkdir(parents=True)
    (home / "run").mkdir(mode=0o700)
    count = base / "asked"
    script = base / "pw"
    script.write_text(COUNTER.format(count=count, passphrase=TEST_PASSPHRASE))
    script.chmod(0o700)
    world = setup_world(home, moto_url, {"AWSV_PASSPHRASE_COMMAND": str(script), "AWSV_TEST_MARK": base.name})
    try:
        r = world.awsv("use", "admin", "--shell", "bash")  # STS once; starts the agent
        assert r.returncode == 0, r.stderr
        yield world
    finally:
        cleanup_agents(world.awsv, base.name)


def _compare(hot: Hot, args: list[str], *, tty: bool, must_be_fast: bool) -> None:
    fast = run_awsv(hot, args, agent=True, tty=tty)
    full = run_awsv(hot, args, agent=False, tty=tty)
    assert "awsv.cli" in full[3], "the control did not run the full CLI"
    if must_be_fast:
        assert "awsv.cli" not in fast[3], f"{args}: the fast path did not answer"
    assert fast[:3] == full[:3], f"{args} ({'terminal' if tty else 'pipe'}): fast path and full CLI differ"


@pytest.mark.parametrize("args", _expand(ACCEPTED), ids=shlex.join)
def test_accepted_spellings_match_the_full_cli_on_a_pipe(hot: Hot, args: list[str]) -> None:
    _compare(hot, args, tty=False, must_be_fast=True)


@pytest.mark.parametrize("args", _expand(NEAR_MISSES), ids=shlex.join)
def test_near_misses_match_the_full_cli_on_a_pipe(hot: Hot, args: list[str]) -> None:
    _compare(hot, args, tty=False, must_be_fast=False)


#: On a terminal `use` must refuse (the full CLI's error), whatever the spelling; credential_process prints.
ON_A_TERMINAL = [
    ["use", "admin", "--shell", "S"],
    ["use", "-q", "--shell", "S", "admin"],
    ["use", "--no-prompt", "--quiet", "--shell", "S", "--region", "eu-west-1", "--", "admin"],
    ["use", "admin"],
    ["export", "--format", "credential-process", "admin"],
    ["exec", "-j", "admin"],
]


@pytest.mark.parametrize("args", _expand(ON_A_TERMINAL), ids=shlex.join)
def test_spellings_match_the_full_cli_on_a_terminal(hot: Hot, args: list[str]) -> None:
    _compare(hot, args, tty=True, must_be_fast=False)
    if args[0] == "use":
        rc, out, err, _ = run_awsv(hot, args, agent=True, tty=True)
        assert rc == 2 and out == "" and "prints shell code" in err, (rc, out, err)


def _under(shell: str, args: list[str]) -> list[str]:
    """`args` (the awsv command) run as a child of `shell`, which stays its parent process."""
    cmd = shlex.join([sys.executable, "-X", "importtime", "-m", "awsv", *args])
    status = "$status" if shell == "fish" else "$?"
    return [shell, "-c", f"{cmd}; exit {status}"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("quiet", [False, True], ids=["loud", "quiet"])
def test_use_without_shell_detects_the_same_shell_as_the_full_cli(hot: Hot, shell: str, quiet: bool) -> None:
    """The README's `eval "$(awsv use P)"`: run under each real shell, no --shell."""
    args = ["use", "admin", *(["--quiet"] if quiet else [])]
    results = []
    for agent in (True, False):
        env = {**hot.env, "AWSV_AGENT": "auto" if agent else "off", "SHELL": "/bin/sh"}
        r = _piped(_under(shell, args), env)
        results.append((r.returncode, r.stdout, _comparable_stderr(r.stderr), imported_modules(r.stderr)))
    fast, full = results
    assert "awsv.cli" not in fast[3] and "shellingham" not in fast[3], "the fast path did not answer"
    assert "awsv.cli" in full[3]
    assert fast[:3] == full[:3]
    assert fast[0] == 0 and ("using 'admin'" in fast[2]) is not quiet
    marker = {
        "bash": "export AWS_ACCESS_KEY_ID=",
        "zsh": "export AWS_ACCESS_KEY_ID=",
        "fish": "set -gx AWS_ACCESS_KEY_ID ",
    }[shell]
    assert marker in fast[1]


# -- secrets never reach the agent ---------------------------------------------------------------

_LEN = struct.Struct(">I")


class RecordingAgent:
    """A stand-in on the agent's socket that records every byte clients send and answers "miss".

    Not the real agent: the point is to see the wire. It answers `hello`
    with an identity no client wants (so the full CLI then opens the vault
    itself), `deliver` with a miss, anything else with an error.
    """

    def __init__(self, runtime: Path) -> None:
        directory = runtime / "awsv"
        directory.mkdir(mode=0o700, exist_ok=True)
        self.path = directory / "agent.sock"
        self.received = bytearray()
        self.requests: list[dict[str, object]] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.path))
        self._listener.listen(8)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(30)
                try:
                    while self._answer(conn):
                        pass
                except OSError:
                    continue

    def _answer(self, conn: socket.socket) -> bool:
        head = conn.recv(4, socket.MSG_WAITALL)
        if len(head) < 4:
            return False
        body = conn.recv(_LEN.unpack(head)[0], socket.MSG_WAITALL)
        self.received += head + body
        request = json.loads(body)
        self.requests.append(request)
        if request.get("op") in ("hello", "status"):
            reply: dict[str, object] = {"ok": True, "identity": "someone else's vault", "version": 2}
        elif request.get("op") == "deliver":
            reply = {"ok": True, "hit": False, "why": "recording only"}
        else:
            reply = {"ok": False, "error": {"type": "AgentError", "message": "recording only"}}
        data = json.dumps(reply).encode()
        conn.sendall(_LEN.pack(len(data)) + data)
        return True

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def recording(home: Path) -> Iterator[RecordingAgent]:
    agent = RecordingAgent(home / "run")
    try:
        yield agent
    finally:
        agent.close()


SECRETS = {
    "AWSV_FILE_PASSPHRASE": "canary-file-passphrase-1",
    "AWS_VAULT_FILE_PASSPHRASE": "canary-vault-passphrase-2",
    "AWSV_PASSPHRASE_COMMAND": "printf canary-passphrase-command-3",
    "AWS_VAULT_PASSPHRASE_COMMAND": "printf canary-vault-command-4",
    "AWS_SECRET_ACCESS_KEY": "canary-secret-access-key-5",
    "AWS_SESSION_TOKEN": "canary-session-token-6",
    "AWS_SECURITY_TOKEN": "canary-security-token-7",
}


@pytest.mark.parametrize(
    "args",
    [
        ["use", "admin", "--shell", "zsh"],
        ["use", "--no-prompt", "--quiet", "--shell", "bash", "--region", "eu-west-1", "--", "admin"],
        ["use", "admin"],
        ["export", "--format", "credential-process", "admin"],
        ["exec", "admin", "--", "true"],
    ],
    ids=shlex.join,
)
def test_no_secret_reaches_the_agent(home: Path, recording: RecordingAgent, args: list[str]) -> None:
    (home / ".aws" / "config").write_text("[profile admin]\nregion = eu-west-1\n")
    env = {**base_env(home), "AWSV_AGENT": "auto", "AWS_ACCESS_KEY_ID": "AKIACANARYNOTSECRET0", **SECRETS}
    _piped([sys.executable, "-m", "awsv", *args], env)
    delivers = [r for r in recording.requests if r.get("op") == "deliver"]
    assert delivers, "the fast path never asked the agent: this test proved nothing"
    sent_env = delivers[0]["env"]
    assert isinstance(sent_env, dict) and sent_env.get("AWS_CONFIG_FILE") == env["AWS_CONFIG_FILE"]
    for name, value in SECRETS.items():
        assert name not in sent_env
        assert value.split()[-1].encode() not in recording.received, f"{name}'s value reached the agent"
