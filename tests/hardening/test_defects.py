"""Regression tests for the seven defects of issue 12; each failed before its fix.

All through the real CLI (`python -m awsv`) or the real module, with real
files, FIFOs, device nodes, processes and the real agent.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSPHRASE, AwsvRunner
from tests.support.agent_world import World, agent_rss_kib, agent_threads, alive
from tests.support.hostile_inputs import (
    FILE_KINDS,
    PY,
    chained_config,
    helper_script,
    make_file_of_kind,
    one_clean_line,
    run_limited,
)
from tests.support.polling import wait_for

CLEAN_DOC = {
    "Version": 1,
    "AccessKeyId": "ASIAHARDENING0000001",
    "SecretAccessKey": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTQw",
    "SessionToken": "dG9rZW4tdG9rZW4tdG9rZW4=",
    "Expiration": "2099-01-01T00:00:00Z",
}


def write_config(home: Path, text: str) -> None:
    (home / ".aws" / "config").write_text(textwrap.dedent(text))


# -- 1. silent connections pin memory in the agent ---------------------------------------


def test_1_silent_connections_are_bounded_and_dropped(agent_world: World) -> None:
    from awsv.agent.server import FIRST_REQUEST_TIMEOUT, MAX_CONNECTIONS

    w = agent_world
    w.ok("list")
    pid = w.agent_pid()
    before = agent_rss_kib(pid)
    silent = []
    for _ in range(MAX_CONNECTIONS + 8):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(w.socket_path))
        silent.append(s)
    try:
        # The accept loop has seen them all once the busy ones are told so and closed.
        assert wait_for(lambda: agent_threads(pid) >= MAX_CONNECTIONS, timeout=10)
        threads = agent_threads(pid)
        assert threads <= MAX_CONNECTIONS + 4, f"{threads} threads for {len(silent)} silent clients"
        grown_mib = (agent_rss_kib(pid) - before) / 1024
        assert grown_mib < 64, f"the agent grew by {grown_mib:.0f} MiB for {len(silent)} silent clients"
        # Each silent connection is closed by the agent after its first-request deadline.
        for s in silent:
            s.settimeout(FIRST_REQUEST_TIMEOUT + 15)
            assert s.recv(65536) is not None  # a busy reply or nothing; then EOF
        deadline = time.monotonic() + FIRST_REQUEST_TIMEOUT + 15
        for s in silent:
            while time.monotonic() < deadline:
                try:
                    if s.recv(65536) == b"":
                        break
                except BlockingIOError:
                    pass
            else:
                raise AssertionError("a silent connection was never closed by the agent")
    finally:
        for s in silent:
            s.close()
    assert wait_for(lambda: agent_threads(pid) <= 3, timeout=10)
    # And the agent still serves, without asking for the passphrase again.
    asked = w.asked()
    w.ok("list")
    assert w.asked() == asked and w.agent_pid() == pid


# -- 2. deeply nested JSON from a credential_process ------------------------------------


@pytest.mark.parametrize("command", ["export", "use"])
def test_2_deeply_nested_json_is_one_clean_error(home: Path, awsv: AwsvRunner, tmp_path: Path, command: str) -> None:
    script = helper_script(tmp_path, "nested", "print('[' * 100000)\n")
    write_config(home, f"[profile cp]\ncredential_process = {script}\n")
    r = awsv(command, "cp")
    # export prints nothing; use prints only code that fails (`shells.*.fail`), never an export.
    assert r.returncode == 1 and r.stdout.strip() in ("", "false", "(builtin exit 1)"), r.stdout[:200]
    one_clean_line(r.stderr)
    assert "nested too deeply" in r.stderr and "'cp'" in r.stderr


# -- 3. output and values have no size limit --------------------------------------------


def test_3_huge_credential_process_output_is_refused(home: Path, awsv: AwsvRunner, tmp_path: Path) -> None:
    script = helper_script(
        tmp_path,
        "huge",
        """\
        import json, sys
        doc = {"Version": 1, "AccessKeyId": "ASIAHUGE", "SecretAccessKey": "a" * 20_000_000}
        sys.stdout.write(json.dumps(doc))
    """,
    )
    write_config(home, f"[profile cp]\ncredential_process = {script}\n")
    r = awsv("export", "cp")
    assert r.returncode == 1 and "a" * 100 not in r.stdout
    one_clean_line(r.stderr)
    assert "printed more than" in r.stderr and "'cp'" in r.stderr


@pytest.mark.parametrize("field,length", [("AccessKeyId", 200), ("SecretAccessKey", 5000), ("SessionToken", 100_000)])
def test_3_overlong_values_are_refused(home: Path, awsv: AwsvRunner, tmp_path: Path, field: str, length: int) -> None:
    doc = dict(CLEAN_DOC, **{field: "A" * length})
    script = helper_script(tmp_path, "long", f"print({json.dumps(json.dumps(doc))})\n")
    write_config(home, f"[profile cp]\ncredential_process = {script}\n")
    r = awsv("export", "cp")
    assert r.returncode == 1 and "AAAA" not in r.stdout
    one_clean_line(r.stderr)
    assert f"{field} is longer than" in r.stderr and "'cp'" in r.stderr


def test_3_huge_passphrase_command_output_is_refused(home: Path, awsv: AwsvRunner, tmp_path: Path) -> None:
    script = helper_script(tmp_path, "pw", "import sys; sys.stdout.write('x' * 50_000_000)\n")
    r = awsv(
        "list",
        env={"AWSV_FILE_PASSPHRASE": None, "AWSV_PASSPHRASE_COMMAND": str(script)},  # type: ignore[dict-item]
        input="",
    )
    awsv_add = awsv(
        "add",
        "prod",
        input="AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        env={"AWSV_FILE_PASSPHRASE": None, "AWSV_PASSPHRASE_COMMAND": str(script)},
    )  # type: ignore[dict-item]
    for res in (awsv_add,) + ((r,) if r.returncode else ()):
        assert res.returncode == 1
        one_clean_line(res.stderr)
        assert "passphrase command printed more than" in res.stderr


# -- 4. invalid characters are reported as such, naming field and profile --------------


def test_4_newline_in_a_secret_is_named_not_a_network_failure(home: Path, awsv: AwsvRunner, tmp_path: Path) -> None:
    doc = dict(CLEAN_DOC, SecretAccessKey="abc\ndef")
    script = helper_script(tmp_path, "nl", f"print({json.dumps(json.dumps(doc))})\n")
    with socket.socket() as s:  # a port with nothing behind it: a signing call could only fail to connect
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_config(
        home,
        f"""\
        [profile src]
        credential_process = {script}
        [profile role]
        role_arn = arn:aws:iam::123456789012:role/r
        source_profile = src
    """,
    )
    r = awsv("export", "role", env={"AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{port}"})
    assert r.returncode == 1
    one_clean_line(r.stderr)
    assert "cannot reach" not in r.stderr
    assert "SecretAccessKey" in r.stderr and "'src'" in r.stderr and "abc" not in r.stderr


def test_4_a_malformed_key_in_the_vault_is_named(home: Path, awsv: AwsvRunner, env: dict[str, str]) -> None:
    write_config(home, "[profile prod]\nregion = eu-west-1\n")
    code = textwrap.dedent("""\
        import os, sys
        from awsv.vault.file import FileVault
        from awsv.paths import data_dir
        v = FileVault(data_dir() / "vault.awsv", passphrase_provider=lambda c: os.environ["AWSV_FILE_PASSPHRASE"])
        v.set("key/prod", {"type": "long-term-key", "access_key_id": "AKIA\\"; touch /tmp/x",
                           "secret_access_key": "s"})
    """)
    subprocess.run([PY, "-c", code], env=env, check=True)
    r = awsv("export", "prod", "--no-session")
    assert r.returncode == 1
    one_clean_line(r.stderr)
    assert "AccessKeyId" in r.stderr and "'prod'" in r.stderr and "touch" not in r.stderr


# -- 5. listing is linear in source_profile depth, and depth is limited -----------------


@pytest.mark.parametrize("order", ["deepest-first", "file-order"])
def test_5_resolving_every_profile_reads_each_once(order: str) -> None:
    from awsv.chain import MAX_CHAIN_DEPTH, Resolver
    from awsv.config import AwsConfig

    class Counting(AwsConfig):
        reads = 0

        def profile(self, name: str, *, allow_missing: bool = False):  # type: ignore[no-untyped-def]
            Counting.reads += 1
            return super().profile(name, allow_missing=allow_missing)

    depth = 2000
    parsed = AwsConfig.parse(chained_config(depth))
    config = Counting({n: parsed.raw(n) for n in parsed.names()})
    names = config.names()
    if order == "deepest-first":
        names.reverse()
    resolver = Resolver(config)
    ok = errors = 0
    for name in names:
        try:
            chain = resolver.resolve(name)
        except Exception as exc:  # noqa: BLE001 - counted and checked below
            assert f"longer than {MAX_CHAIN_DEPTH} profiles" in str(exc), exc  # noqa: PT017 - one of many names
            errors += 1
        else:
            ok += 1
            assert len(chain.trail) <= MAX_CHAIN_DEPTH and chain.region == "eu-west-1"
    assert ok == MAX_CHAIN_DEPTH and errors == depth + 1 - MAX_CHAIN_DEPTH
    # Linear: a bounded number of reads per profile, not one per profile per chain member.
    assert Counting.reads <= 3 * (depth + 1) + MAX_CHAIN_DEPTH, Counting.reads


def _counting_config(depth: int, extra: str = ""):  # type: ignore[no-untyped-def]
    """chained_config(depth) (+ `extra`) as an AwsConfig that counts reads of a profile's settings."""
    from awsv.config import AwsConfig

    class Counting(AwsConfig):
        reads = 0

        def profile(self, name: str, *, allow_missing: bool = False):  # type: ignore[no-untyped-def]
            Counting.reads += 1
            return super().profile(name, allow_missing=allow_missing)

    parsed = AwsConfig.parse(chained_config(depth) + extra)
    return Counting({n: parsed.raw(n) for n in parsed.names()})


def _session_vault(tmp_path: Path, owners: list[str]):  # type: ignore[no-untyped-def]
    """A real file vault holding one cached-session item per name in `owners`."""
    from awsv.vault.file import VAULT_FILE, FileVault

    (tmp_path / "vault").mkdir(mode=0o700)
    vault = FileVault(tmp_path / "vault" / VAULT_FILE, passphrase_provider=lambda creating: TEST_PASSPHRASE)
    for owner in owners:
        vault.set(f"session/{owner}-id", {"type": "session", "cache": {"profile": owner}})
    return vault


# Resolving each profile on its own walks a chain of n profiles n times: at depth
# 2,000 that is millions of profile reads, minutes on this machine, so these tests
# would hit their timeout (and the read count) before the fix. No timing is asserted.
@pytest.mark.timeout(120)
def test_5_rotate_clears_the_key_sessions_of_a_deep_config_linearly(tmp_path: Path) -> None:
    from awsv.chain import MAX_CHAIN_DEPTH
    from awsv.commands.rotate import clear_key_sessions
    from awsv.context import Context

    depth = 2000
    config = _counting_config(depth, "[profile other]\n")
    owners = ["p0", "p1", f"p{MAX_CHAIN_DEPTH - 1}", "other"]
    ctx = Context(env={}, _config=config, _vault=_session_vault(tmp_path, owners))
    type(config).reads = 0
    cleared = clear_key_sessions(ctx, "p0")
    assert cleared == 3
    assert ctx.vault.list() == ["session/other-id"]
    # Linear: a bounded number of reads per profile, however deep the chain.
    assert type(config).reads <= 3 * (depth + 2) + 4 * MAX_CHAIN_DEPTH, type(config).reads


@pytest.mark.timeout(120)
def test_5_clear_of_a_deep_profile_reads_its_chain_once(tmp_path: Path) -> None:
    from awsv.chain import MAX_CHAIN_DEPTH
    from awsv.context import Context
    from awsv.sessions import clear_sessions

    depth = 2000
    config = _counting_config(depth)
    ctx = Context(env={}, _config=config, _vault=_session_vault(tmp_path, ["p0", "p5", f"p{depth}"]))
    type(config).reads = 0
    assert clear_sessions(ctx, "p5") == 2  # p5's chain: p5 ... p0
    assert clear_sessions(ctx, f"p{depth}") == 1  # too deep to resolve: its own items only
    assert ctx.vault.list() == []
    assert type(config).reads <= 3 * (depth + 1) + MAX_CHAIN_DEPTH, type(config).reads


def test_5_list_names_the_too_deep_chain(home: Path, awsv: AwsvRunner) -> None:
    from awsv.chain import MAX_CHAIN_DEPTH

    (home / ".aws" / "config").write_text(chained_config(MAX_CHAIN_DEPTH + 5))
    r = awsv("list", "--json", timeout=60)
    assert r.returncode == 0, r.stderr
    rows = {row["profile"]: row for row in json.loads(r.stdout)}
    assert rows[f"p{MAX_CHAIN_DEPTH - 1}"]["error"] is None
    assert f"longer than {MAX_CHAIN_DEPTH} profiles" in rows[f"p{MAX_CHAIN_DEPTH}"]["error"]
    r = awsv("export", f"p{MAX_CHAIN_DEPTH + 5}")
    assert r.returncode == 1
    one_clean_line(r.stderr)
    assert f"longer than {MAX_CHAIN_DEPTH} profiles" in r.stderr


# -- 6. non-regular config files ----------------------------------------------------------


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_6_aws_config_that_is_not_a_regular_file(home: Path, env: dict[str, str], kind: str) -> None:
    path = home / ".aws" / "config"
    words = make_file_of_kind(kind, path)
    for args in (["list"], ["list", "--names"], ["export", "prod"]):
        r = run_limited(env, *args)
        assert r.returncode == 1, (args, r.stderr[-500:])
        one_clean_line(r.stderr)
        assert str(path) in r.stderr and words in r.stderr


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_6_credentials_file_that_is_not_a_regular_file(home: Path, env: dict[str, str], kind: str) -> None:
    path = home / ".aws" / "credentials"
    words = make_file_of_kind(kind, path)
    r = run_limited(env, "import")
    assert r.returncode == 1, r.stderr[-500:]
    one_clean_line(r.stderr)
    assert str(path) in r.stderr and words in r.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "oversized"])
def test_6_settings_file_that_is_not_a_regular_file(home: Path, env: dict[str, str], kind: str) -> None:
    path = home / ".config" / "awsv" / "config"
    path.parent.mkdir(parents=True)
    words = make_file_of_kind(kind, path).replace("16 MiB", "")
    r = run_limited(env, "list")
    assert r.returncode == 1, r.stderr[-500:]
    one_clean_line(r.stderr)
    assert str(path) in r.stderr and words in r.stderr


def test_6_missing_config_says_it_does_not_exist(home: Path, awsv: AwsvRunner) -> None:
    config = home / ".aws" / "config"
    assert not config.exists()
    r = awsv("export", "prod")
    assert r.returncode == 1
    one_clean_line(r.stderr)
    assert f"{config} does not exist" in r.stderr and "is not in" not in r.stderr


# -- 7. a timed-out or interrupted helper takes its whole process group with it -----------


#: A helper that hangs with a child of its own: the hang is the thing under test.
SPAWNER = """\
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open({pidfile!r}, "w") as fh:
        fh.write(str(child.pid))
    time.sleep(300)
"""


def test_7_timeout_kills_the_grandchildren(tmp_path: Path) -> None:
    from awsv.credential_process import CredentialProcessError, run_credential_process

    pidfile = tmp_path / "grandchild"
    script = helper_script(tmp_path, "spawner", SPAWNER.format(pidfile=str(pidfile)))
    with pytest.raises(CredentialProcessError, match="did not finish within 2s"):
        run_credential_process("cp", str(script), dict(os.environ), timeout=2)
    grandchild = int(pidfile.read_text())
    assert wait_for(lambda: not alive(grandchild), timeout=5), "the grandchild outlived the timeout"


def test_7_ctrl_c_kills_the_grandchildren(home: Path, env: dict[str, str], tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild"
    script = helper_script(tmp_path, "spawner", SPAWNER.format(pidfile=str(pidfile)))
    write_config(home, f"[profile cp]\ncredential_process = {script}\n")
    proc = subprocess.Popen(
        [PY, "-m", "awsv", "export", "cp"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: pidfile.exists() and pidfile.read_text() != "", timeout=20)
        grandchild = int(pidfile.read_text())
        proc.send_signal(signal.SIGINT)  # what Ctrl-C delivers to awsv, the terminal's foreground job
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert wait_for(lambda: not alive(grandchild), timeout=5), "the grandchild outlived Ctrl-C"


PROMPTER = """\
    import json, subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open({pidfile!r}, "w") as fh:
        fh.write(str(child.pid))
    import os, signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # die of Ctrl-C quietly, as most programs do
    fd = os.open("/dev/tty", os.O_RDWR)
    os.write(fd, b"helper code: ")
    code = os.read(fd, 100).decode().strip()
    child.kill()
    print(json.dumps({{"Version": 1, "AccessKeyId": "ASIAPROMPT" + code, "SecretAccessKey": "s3cr3t",
                      "SessionToken": "t0k3n", "Expiration": "2099-01-01T00:00:00Z"}}))
"""


def test_7_on_a_terminal_a_helper_still_prompts_and_ctrl_c_kills_its_group(
    home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """On a real pty the helper's group gets the terminal: it can prompt, and Ctrl-C reaches it."""
    import pexpect

    pidfile = tmp_path / "grandchild"
    script = helper_script(tmp_path, "prompter", PROMPTER.format(pidfile=str(pidfile)))
    write_config(home, f"[profile cp]\ncredential_process = {script}\n")
    out = tmp_path / "out"
    argv = ["-c", f'exec "{PY}" -m awsv export cp > "{out}"']
    child = pexpect.spawn("/bin/sh", argv, env=env, encoding="utf-8", timeout=30)
    child.expect_exact("helper code: ")
    child.sendline("42")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "ASIAPROMPT42" in out.read_text()
    # Again, and this time Ctrl-C at the helper's prompt.
    pidfile.unlink()
    child = pexpect.spawn("/bin/sh", argv, env=env, encoding="utf-8", timeout=30)
    child.expect_exact("helper code: ")
    grandchild = int(pidfile.read_text())
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.before
    assert "Traceback" not in (child.before or "") and "was interrupted" in (child.before or "")
    assert wait_for(lambda: not alive(grandchild), timeout=5), "the grandchild outlived Ctrl-C"
