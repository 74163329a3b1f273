"""The local credential endpoint (`awsv exec --server`, `awsv serve`) with real clients.

Everything is real: awsv runs as a process with its real file vault, STS is
moto's server over HTTP, and the clients are boto3/botocore's own container
credential provider and the real AWS CLI, finding the endpoint only through
the variables awsv sets.

Crossing expiries: moto issues credentials for at least 900 s (botocore
refuses shorter DurationSeconds), and waiting three times 15 minutes is no
test. So the renewal tests put a small proxy in front of moto
(`ShortLivedSts`, a fault proxy that rewrites only the `<Expiration>` of
AssumeRole/GetSessionToken answers to 24 s from now), shrink the endpoint's
refresh window with AWSV_ENDPOINT_WINDOW=9s (the setting is documented;
15 min is its default), and give the boto3 client botocore's windows scaled
the same way (advisory 9 s, mandatory 6 s instead of 15 and 10 min) by
setting botocore's own class attributes in the client. The timeline is
compressed; the code paths (background renewal, the SDK's refresh, new
AssumeRole calls through the sessions layer) are the production ones.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pexpect
import pytest

from tests.conftest import TEST_PASSPHRASE
from tests.support.doctor_report import DateServer, date_server, run_doctor  # noqa: F401  (fixture)
from tests.support.fault_proxy import FaultProxy
from tests.support.moto_server import create_user_with_key, moto_url  # noqa: F401  (fixture)
from tests.support.use_world import CONFIG, World, make_world

ENDPOINT_CONFIG = (
    CONFIG
    + """
[profile mfaonly]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
region = us-east-1
"""
)

#: Variables that must never reach a command served by the endpoint.
KEY_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWSV_EXPIRES",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWSV_FILE_PASSPHRASE",
    "AWSV_PASSPHRASE_COMMAND",
    "AWS_VAULT_FILE_PASSPHRASE",
)
STALE = {
    "AWS_ACCESS_KEY_ID": "AKIASTALESTALESTALE0",
    "AWS_SECRET_ACCESS_KEY": "stale",
    "AWS_SESSION_TOKEN": "stale",
    "AWS_SECURITY_TOKEN": "stale",
    "AWS_PROFILE": "stale",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/stale",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/stale",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "stale",
    "AWS_CREDENTIAL_EXPIRATION": "stale",
}
LIFETIME = 24  # seconds, the short-lived proxy's credentials


class ShortLivedSts(FaultProxy):
    """moto, except that the credentials it issues expire LIFETIME seconds after they are issued."""

    def _reply(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,  # type: ignore[override]
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        if b"<Expiration>" in body:
            expiry = (datetime.now(UTC) + timedelta(seconds=LIFETIME)).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = re.sub(rb"<Expiration>[^<]*</Expiration>", f"<Expiration>{expiry}</Expiration>".encode(), body)
        FaultProxy._reply(handler, status, headers, body)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> World:
    w = make_world(tmp_path_factory, moto_url, ENDPOINT_CONFIG)
    key_id, secret = create_user_with_key(moto_url, "mfauser")
    r = w.awsv("add", "--env", "mfaonly", env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
    assert r.returncode == 0, r.stderr
    return w


@pytest.fixture
def short_sts(moto_url: str) -> Iterator[ShortLivedSts]:
    proxy = ShortLivedSts(moto_url)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def short_env(proxy: ShortLivedSts) -> dict[str, str]:
    """awsv's environment for the compressed timeline (see the module docstring)."""
    # AWSV_MIN_TTL=1s: with 24-second credentials, a cached step is reusable down to its last second.
    return {"AWS_ENDPOINT_URL_STS": proxy.url, "AWSV_ENDPOINT_WINDOW": "9s", "AWSV_MIN_TTL": "1s"}


# -- helpers -------------------------------------------------------------------


class Serve:
    """`awsv serve PROFILE --format json` as a background process."""

    def __init__(self, world: World, profile: str, *args: str, env: dict[str, str] | None = None) -> None:
        run_env = {**world.env, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "awsv", "serve", profile, "--format", "json", *args],
            env=run_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.startswith("}"):
                break
        if not lines:
            self.proc.wait(timeout=30)
            raise AssertionError(f"awsv serve printed nothing: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        self.vars = json.loads("".join(lines))
        self.url = self.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        self.token = self.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        parts = urllib.parse.urlsplit(self.url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.stderr = ""

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, self.stderr = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode


@pytest.fixture
def serve(world: World) -> Iterator[Serve]:
    s = Serve(world, "admin")
    try:
        yield s
    finally:
        s.stop()


def raw_request(host: str, port: int, data: bytes, *, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send `data` as is; (status, headers, body) of the answer, status 0 if the connection just closed."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    raw = b"".join(chunks)
    if not raw:
        return 0, {}, b""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def get(
    s: Serve, *, token: str | None = None, path: str | None = None, method: str = "GET", extra: str = ""
) -> tuple[int, dict[str, str], bytes]:
    auth = f"Authorization: {token}\r\n" if token is not None else ""
    request = (
        f"{method} {path or s.path} HTTP/1.1\r\nHost: {s.host}:{s.port}\r\n{auth}{extra}"
        "Accept: application/json\r\n\r\n"
    )
    return raw_request(s.host, s.port, request.encode())


def refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return True
    return False


def container_credentials(url: str, token: str):  # type: ignore[no-untyped-def]
    """botocore's own container provider (what boto3 and the AWS CLI use), for `url` and `token`."""
    from botocore.credentials import ContainerProvider

    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
    return ContainerProvider(environ=env).load().get_frozen_credentials()


# -- exec --server -------------------------------------------------------------


def test_exec_server_gives_the_command_an_endpoint_and_no_keys(world: World, tmp_path: Path) -> None:
    """The AWS CLI inside works through the endpoint alone; stale variables are gone; the endpoint ends with CMD."""
    dump = tmp_path / "env.json"
    script = (
        f'"{sys.executable}" -c "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], \'w\'))" '
        f'"{dump}" && aws sts get-caller-identity --output json'
    )
    r = world.awsv("exec", "--server", "admin", "--", "sh", "-c", script, env=STALE)
    assert r.returncode == 0, r.stderr
    assert ":assumed-role/Admin/" in json.loads(r.stdout)["Arn"]
    child = json.loads(dump.read_text())
    url = urllib.parse.urlsplit(child["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    assert url.scheme == "http" and url.hostname == "127.0.0.1" and url.port
    assert len(child["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) >= 40
    assert child["AWS_CONTAINER_AUTHORIZATION_TOKEN"] != "stale"
    assert [name for name in KEY_VARS if name in child] == []
    assert child["AWSV_PROFILE"] == child["AWS_VAULT"] == "admin"
    assert child["AWS_REGION"] == "us-east-2"
    # The endpoint is gone with the command: nothing listens on its port any more.
    assert refused(url.hostname, url.port)
    # And nothing of it was written under HOME (port and token live in memory only).
    token = child["AWS_CONTAINER_AUTHORIZATION_TOKEN"].encode()
    for path in world.home.rglob("*"):
        if path.is_file():
            assert token not in path.read_bytes(), path


def test_exec_server_passes_exit_status_and_signals_through(world: World) -> None:
    assert world.awsv("exec", "--server", "admin", "--", "sh", "-c", "exit 7").returncode == 7
    # Killed by a signal: awsv dies of the same signal, so the shell sees 128+15.
    script = f'"{sys.executable}" -m awsv exec --server admin -- sh -c \'kill -TERM $$\'; echo "status=$?"'
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=world.env, timeout=60)
    assert r.stdout.strip() == "status=143", r.stderr
    r = world.awsv("exec", "--server", "admin", "--", "no-such-command-here")
    assert r.returncode == 1 and "command not found: 'no-such-command-here'" in r.stderr


CHILD = """\
import os, signal, sys, time
def caught(signum, frame):
    print(f"child caught {signal.Signals(signum).name}", flush=True)
    sys.exit(int(os.environ.get("CHILD_EXIT", "5")))
signal.signal(signal.SIGINT, caught)
signal.signal(signal.SIGTERM, caught)
print("ready", os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], flush=True)
time.sleep(60)  # a command that runs until a signal ends it: the thing under test
"""


def test_ctrl_c_reaches_the_command_and_the_endpoint_stops(world: World, tmp_path: Path) -> None:
    """On a real terminal, Ctrl-C goes to CMD (once); awsv waits, then leaves with CMD's status."""
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    proc = pexpect.spawn(
        sys.executable,
        ["-m", "awsv", "exec", "--server", "admin", "--", sys.executable, str(child)],
        env={**world.env, "TERM": "dumb"},
        encoding="utf-8",
        timeout=30,
    )
    proc.expect(r"ready (http://\S+)")
    url = urllib.parse.urlsplit(proc.match.group(1))
    assert not refused(url.hostname, url.port)
    proc.sendintr()
    proc.expect("child caught SIGINT")
    proc.expect(pexpect.EOF)
    proc.close()
    assert proc.exitstatus == 5, proc.before
    assert proc.before.count("caught") == 0  # caught exactly once (the match above)
    assert refused(url.hostname, url.port)


def test_sigterm_to_awsv_is_forwarded(world: World, tmp_path: Path) -> None:
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "awsv", "exec", "--server", "admin", "--", sys.executable, str(child)],
        env={**world.env, "CHILD_EXIT": "9"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready "), proc.stderr.read()  # type: ignore[union-attr]
    url = urllib.parse.urlsplit(line.split()[1])
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert "child caught SIGTERM" in out
    assert proc.returncode == 9, err
    assert refused(url.hostname, url.port)


def test_without_a_command_it_starts_the_shell_and_plain_exec_clears_endpoint_variables(world: World) -> None:
    r = world.awsv(
        "exec", "--server", "admin", input='echo "uri=$AWS_CONTAINER_CREDENTIALS_FULL_URI"\n', env={"SHELL": "/bin/sh"}
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("uri=http://127.0.0.1:")
    assert "with a credential endpoint for 'admin'" in r.stderr
    # The variables mode replaces a stale endpoint: its variables would point SDKs at nothing.
    r = world.awsv("exec", "admin", "--", "sh", "-c", "env", env=STALE)
    child = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    assert r.returncode == 0 and child["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert [k for k in child if k.startswith("AWS_CONTAINER_")] == []


# -- renewal with real clients ---------------------------------------------------


BOTO3_LOOP = """\
import json, sys, time
from datetime import datetime, timezone
import boto3
from botocore.credentials import RefreshableCredentials
# botocore's refresh windows (15 and 10 min), scaled like the endpoint's AWSV_ENDPOINT_WINDOW=9s.
RefreshableCredentials._advisory_refresh_timeout = 9
RefreshableCredentials._mandatory_refresh_timeout = 6
wanted = int(sys.argv[1])  # credential sets that must expire while the loop runs
session = boto3.Session()  # one session for the whole run: no restart
sts = session.client("sts")
expiries, failures, calls, stale = {}, [], 0, []
start = time.time()
def expired():
    now = datetime.now(timezone.utc)
    return sum(1 for e in expiries.values() if e < now)
while expired() < wanted and time.time() - start < 150:
    try:
        arn = sts.get_caller_identity()["Arn"]
        assert ":assumed-role/Admin/" in arn, arn
        calls += 1
    except Exception as exc:
        failures.append(repr(exc))
    creds = session.get_credentials()
    frozen = creds.get_frozen_credentials()
    expiries.setdefault(frozen.access_key, creds._expiry_time)
    if (creds._expiry_time - datetime.now(timezone.utc)).total_seconds() <= 0:
        stale.append(frozen.access_key)
    time.sleep(0.25)
print(json.dumps({"keys": list(expiries), "expired": expired(), "failures": failures,
                  "calls": calls, "stale": stale, "seconds": time.time() - start}))
"""


@pytest.mark.slow
def test_boto3_loop_across_three_expiries_never_fails(world: World, short_sts: ShortLivedSts, tmp_path: Path) -> None:
    """One boto3 session keeps calling STS while three of its credential sets expire and are replaced."""
    loop = tmp_path / "loop.py"
    loop.write_text(BOTO3_LOOP)
    r = world.awsv(
        "exec", "--server", "admin", "--", sys.executable, str(loop), "3", env=short_env(short_sts), timeout=200
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["failures"] == []
    assert result["stale"] == []  # never held an expired credential
    assert result["expired"] >= 3  # three sets expired while the same session kept working
    assert len(result["keys"]) >= 4 and result["calls"] > 20
    assert short_sts.count("AssumeRole") >= 4  # real renewals through the sessions layer and STS


@pytest.mark.slow
def test_renewal_goes_through_the_agent(world: World, short_sts: ShortLivedSts, tmp_path: Path) -> None:
    """With an unlocked agent, every renewal reads and writes the session cache through it.

    The passphrase command counts its runs: it runs once for `awsv unlock`
    and never again, so neither the endpoint nor any renewal opened the vault
    itself.
    """
    from tests.support.agent_world import COUNTER, agent_pids
    from tests.support.polling import wait_for

    count = tmp_path / "asked"
    command = tmp_path / "passphrase-command"
    command.write_text(COUNTER.format(count=count, passphrase=TEST_PASSPHRASE))
    command.chmod(0o700)
    mark = f"endpoint-{os.getpid()}"
    env = {
        **short_env(short_sts),
        "AWSV_AGENT": "auto",
        "AWSV_FILE_PASSPHRASE": None,  # type: ignore[dict-item]
        "AWSV_PASSPHRASE_COMMAND": str(command),
        "AWSV_TEST_MARK": mark,
    }
    loop = tmp_path / "loop.py"
    loop.write_text(BOTO3_LOOP)
    try:
        assert world.awsv("unlock", env=env).returncode == 0
        assert count.read_text().count("\n") == 1
        r = world.awsv("exec", "--server", "admin", "--", sys.executable, str(loop), "1", env=env, timeout=180)
        assert r.returncode == 0, r.stderr
        result = json.loads(r.stdout)
        assert result["failures"] == [] and result["stale"] == [] and result["expired"] >= 1
        assert len(result["keys"]) >= 2
        assert count.read_text().count("\n") == 1  # never asked again: the agent served every renewal
    finally:
        world.awsv("lock", env=env)
        assert wait_for(lambda: not agent_pids(mark)), "the agent survived the test"


@pytest.mark.slow
def test_aws_cli_across_expiries(world: World, short_sts: ShortLivedSts) -> None:
    """The AWS CLI, started again and again inside one `exec --server`, always gets valid credentials."""
    script = textwrap.dedent("""\
        end=$(( $(date +%s) + 45 ))
        n=0
        while [ "$(date +%s)" -lt "$end" ]; do
            aws sts get-caller-identity --query Arn --output text || exit 1
            n=$((n + 1))
            sleep 2
        done
        echo "runs=$n"
    """)
    r = world.awsv("exec", "--server", "admin", "--", "sh", "-c", script, env=short_env(short_sts), timeout=180)
    assert r.returncode == 0, r.stderr
    arns = [line for line in r.stdout.splitlines() if line.startswith("arn:")]
    assert len(arns) >= 5 and all(":assumed-role/Admin/" in a for a in arns)
    assert short_sts.count("AssumeRole") >= 3  # 45 s at 20-second lifetimes: renewed along the way


@pytest.mark.slow
def test_renewal_needing_mfa_without_a_terminal_answers_503_and_says_why(
    world: World, short_sts: ShortLivedSts
) -> None:
    s = Serve(world, "mfaonly", "--mfa-token", "123456", env=short_env(short_sts))
    try:
        first = container_credentials(s.url, s.token)
        assert first.token
        deadline = time.monotonic() + 60
        status, body = 200, b""
        while time.monotonic() < deadline:
            status, _, body = get(s, token=s.token)
            if status != 200:
                break
            doc = json.loads(body)
            expiry = datetime.fromisoformat(doc["Expiration"].replace("Z", "+00:00"))
            assert expiry > datetime.now(UTC)  # whatever it serves is still valid
            time.sleep(0.2)
        assert status == 503
        error = json.loads(body)
        assert error["Code"] == "RenewalNeedsInput"
        assert "'mfaonly'" in error["Message"] and "no terminal" in error["Message"]
        assert first.secret_key not in body.decode()
    finally:
        s.stop()
    assert "cannot renew the credentials of 'mfaonly'" in s.stderr
    assert "awsv exec mfaonly -- true" in s.stderr


# -- security --------------------------------------------------------------------


def test_serve_prints_the_variables_and_serves_the_container_format(serve: Serve) -> None:
    assert serve.host == "127.0.0.1" and serve.path == "/"
    assert set(serve.vars) == {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    }
    status, headers, body = get(serve, token=serve.token)
    assert status == 200
    assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
    doc = json.loads(body)
    assert set(doc) >= {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
    assert doc["AccessKeyId"].startswith("ASIA")
    left = datetime.fromisoformat(doc["Expiration"].replace("Z", "+00:00")) - datetime.now(UTC)
    assert left > timedelta(minutes=15)  # at least botocore's refresh window
    assert container_credentials(serve.url, serve.token).access_key == doc["AccessKeyId"]


def test_wrong_or_missing_token_gets_nothing(serve: Serve) -> None:
    wrong = "x" * len(serve.token)
    cases = [
        (None, None, "GET"),
        (wrong, None, "GET"),
        (serve.token[:-1], None, "GET"),
        (serve.token + "x", None, "GET"),
        ("", None, "GET"),
        (None, "/other", "GET"),
        (wrong, "/other", "POST"),
        (None, None, "DELETE"),
    ]
    for token, path, method in cases:
        status, _, body = get(serve, token=token, path=path, method=method)
        assert status == (401 if token is None else 403), (token, path, method)
        assert body == b""
    # Two Authorization headers, one of them right: refused.
    status, _, body = get(serve, token=serve.token, extra=f"Authorization: {wrong}\r\n")
    assert (status, body) == (403, b"")
    # botocore's own provider with a wrong token: an error, no credentials.
    from botocore.exceptions import CredentialRetrievalError

    with pytest.raises(CredentialRetrievalError, match="403"):
        container_credentials(serve.url, wrong)


def test_only_get_of_the_one_path(serve: Serve) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
        status, headers, body = get(serve, token=serve.token, method=method)
        assert status == 405 and headers["allow"] == "GET" and body == b"", method
    for path in ("/other", "/?x=1", "//", "/stop", "/shutdown", "/../", "*"):
        status, _, body = get(serve, token=serve.token, path=path)
        assert (status, body) == (404, b""), path
    status, _, _ = get(serve, token=serve.token, extra="Content-Length: 5\r\n")
    assert status == 400  # no request bodies
    status, _, _ = raw_request(
        serve.host, serve.port, f"GET / HTTP/9.9\r\nAuthorization: {serve.token}\r\n\r\n".encode()
    )
    assert status == 400
    assert get(serve, token=serve.token)[0] == 200  # none of that stopped or changed it


def test_oversized_and_slow_requests_are_cut_off(serve: Serve) -> None:
    big = f"GET / HTTP/1.1\r\nAuthorization: {serve.token}\r\nX-Pad: {'a' * 9000}\r\n\r\n".encode()
    assert raw_request(serve.host, serve.port, big)[0] == 431
    huge = b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * (4 << 20)  # never ends its headers
    assert raw_request(serve.host, serve.port, huge, timeout=30)[0] in (0, 431)
    # A client that sends half a request and stalls is disconnected (REQUEST_DEADLINE is 5 s).
    with socket.create_connection((serve.host, serve.port), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nAuthoriz")
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server, without an answer
        assert time.monotonic() - started < 25
    assert get(serve, token=serve.token)[0] == 200


def test_fifty_concurrent_clients(serve: Serve) -> None:
    """50 threads of botocore's container provider at once: every one gets the same credentials."""
    barrier = threading.Barrier(50)
    results: list[str] = []
    errors: list[str] = []

    def client() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(container_credentials(serve.url, serve.token).access_key)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=client) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == 50 and len(set(results)) == 1


def test_serve_stops_on_ctrl_c_and_on_sigterm(world: World) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        s = Serve(world, "admin")
        assert get(s, token=s.token)[0] == 200
        s.proc.send_signal(sig)
        assert s.stop() == 0
        assert "credential endpoint stopped" in s.stderr
        assert refused(s.host, s.port)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_serve_shell_code_evaluated_by_a_real_shell(world: World, shell: str) -> None:
    """`awsv serve P --shell S` prints code that sets the two variables and clears key variables."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "awsv", "serve", "admin", "--shell", shell],
        env=world.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        line = proc.stderr.readline().decode()  # printed after the code was flushed
        assert "serving credentials for 'admin'" in line, line + proc.stderr.read().decode()
        os.set_blocking(proc.stdout.fileno(), False)
        code = proc.stdout.read().decode()
        script = code + "\nenv\n"
        argv = ["bash", "--noprofile", "--norc", "-c", script] if shell == "bash" else ["zsh", "-f", "-c", script]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30, env={**world.env, **STALE})
        assert r.returncode == 0, r.stderr
        child = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        assert [name for name in KEY_VARS if name in child and name in STALE] == []
        uri, token = child["AWS_CONTAINER_CREDENTIALS_FULL_URI"], child["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        assert container_credentials(uri, token).access_key.startswith("ASIA")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_listen_elsewhere_warns_loudly(world: World) -> None:
    s = Serve(world, "admin", "--listen", "0.0.0.0")
    try:
        assert s.host == "127.0.0.1"  # what a local client uses
        assert get(s, token=s.token)[0] == 200
    finally:
        s.stop()
    assert "WARNING: the credential endpoint listens on every network interface" in s.stderr
    r = world.awsv("serve", "admin", "--listen", "example.com:80")
    assert r.returncode == 2 and "not an IP address" in r.stderr
    r = world.awsv("exec", "--listen", "127.0.0.1", "admin", "--", "true")
    assert r.returncode == 2 and "add --server" in r.stderr


def test_warns_when_the_default_profile_would_shadow_the_endpoint(world: World, tmp_path: Path) -> None:
    """botocore tries [default]'s own credentials before the container provider: say so at start."""
    config = tmp_path / "config"
    config.write_text((world.home / ".aws" / "config").read_text() + "\n[default]\ncredential_process = /bin/false\n")
    r = world.awsv("exec", "--server", "admin", "--", "true", env={"AWS_CONFIG_FILE": str(config)})
    assert r.returncode == 0, r.stderr
    assert "credential_process: the AWS SDKs and CLI use it before the credential endpoint" in r.stderr
    r = world.awsv("exec", "--server", "admin", "--", "true")
    assert r.returncode == 0 and "before the credential endpoint" not in r.stderr


def test_request_path_imports_no_boto3(tmp_path: Path) -> None:
    """The endpoint module serves from memory: answering requests imports neither boto3 nor botocore."""
    code = textwrap.dedent("""\
        import json, sys, urllib.request
        from datetime import datetime, timedelta, timezone
        from awsv.credentials import Credentials
        from awsv.delivery.endpoint import Endpoint
        creds = Credentials("ASIAEXAMPLE", "secret", "token",
                            datetime.now(timezone.utc) + timedelta(hours=1))
        endpoint = Endpoint(lambda: creds)
        endpoint.start()
        request = urllib.request.Request(endpoint.url(), headers={"Authorization": endpoint.token})
        doc = json.load(urllib.request.urlopen(request, timeout=10))
        endpoint.stop()
        print(json.dumps({"key": doc["AccessKeyId"],
                          "heavy": sorted(m for m in sys.modules if m.split(".")[0] in
                                          ("boto3", "botocore", "cryptography", "keyring"))}))
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "helper")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"key": "ASIAEXAMPLE", "heavy": []}


# -- exec --min-ttl ----------------------------------------------------------------


def test_min_ttl_refuses_credentials_that_expire_too_soon(world: World) -> None:
    r = world.awsv("exec", "--min-ttl", "2h", "admin", "--", "true")
    assert r.returncode == 1 and r.stdout == ""
    assert "before --min-ttl 2h is up" in r.stderr and "awsv exec --server admin -- CMD" in r.stderr
    r = world.awsv("exec", "--min-ttl", "30m", "admin", "--", "sh", "-c", 'echo "$AWS_ACCESS_KEY_ID"')
    assert r.returncode == 0 and r.stdout.startswith("ASIA"), r.stderr
    r = world.awsv("exec", "admin", "--min-ttl", "2h", "--json")
    assert r.returncode == 1 and "--min-ttl" in r.stderr
    r = world.awsv("exec", "--server", "--min-ttl", "2h", "admin", "--", "true")
    assert r.returncode == 2 and "renews" in r.stderr
    r = world.awsv("exec", "--min-ttl", "soon", "admin", "--", "true")
    assert r.returncode == 2 and "not a duration" in r.stderr


# -- doctor ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_doctor_names_a_stale_endpoint_variable(world: World, date_server: DateServer) -> None:

    _, found = run_doctor(world.awsv, date_server)
    assert [f["status"] for f in found["endpoint"]] == ["pass"]
    stale = f"http://127.0.0.1:{free_port()}/"  # nothing listens there any more
    rc, found = run_doctor(
        world.awsv, date_server, AWS_CONTAINER_CREDENTIALS_FULL_URI=stale, AWS_CONTAINER_AUTHORIZATION_TOKEN="old"
    )
    assert rc == 1
    [finding] = found["endpoint"]
    assert finding["status"] == "fail" and "nothing answers" in finding["message"]
    assert "unset AWS_CONTAINER_CREDENTIALS_FULL_URI" in finding["fix"]
    s = Serve(world, "admin")
    try:
        _, found = run_doctor(
            world.awsv, date_server, AWS_CONTAINER_CREDENTIALS_FULL_URI=s.url, AWS_CONTAINER_AUTHORIZATION_TOKEN=s.token
        )
    finally:
        s.stop()
    [finding] = found["endpoint"]
    assert finding["status"] == "info" and "answers" in finding["message"]
    assert s.token not in json.dumps(found)
