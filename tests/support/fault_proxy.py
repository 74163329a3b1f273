"""A small fault-injecting HTTP proxy in front of moto's server.

Why it exists: moto answers every STS call successfully. It never rejects an
MFA code, never throttles, never times out and never sends a broken body, so
the error paths of `awsv.sts` cannot be reached against moto alone. This
proxy forwards requests to moto unchanged and, per test, can instead:

- answer an Action with an STS error document and a status code
  (`fail`, `throttle`, e.g. AccessDenied "MultiFactorAuthentication failed…"),
- delay an answer, to trigger the client's read timeout (`delay`),
- close the connection without answering (`close`),
- answer with bytes that are not STS XML (`garbage`).

It also records every request (its Action and form parameters), so tests can
count STS calls — across processes, since the counting happens here — and see
what awsv sent (SerialNumber, TokenCode, DurationSeconds…).

`AwsvWorld` (fixture `world`) wires awsv to it: a HOME, an AWS config, a
real file vault and `AWS_ENDPOINT_URL_STS` pointing at the proxy. Import the
fixtures into a test module with the moto one:

    from tests.support.fault_proxy import fault_proxy, fault_proxy_server, world  # noqa: F401
    from tests.support.moto_server import moto_url  # noqa: F401
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.support.loopback_http import LoopbackServer
from tests.support.moto_server import create_user_with_key, reset_moto

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
    "content-length",
}


def sts_error_xml(code: str, message: str, kind: str = "Sender") -> bytes:
    """The body AWS STS sends for an error (query protocol)."""
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    ).encode()


@dataclass
class Fault:
    """What to do instead of (or before) forwarding a request."""

    action: str  # an STS Action name, or "*" for any
    kind: str  # "error", "delay", "close", "garbage"
    status: int = 400
    body: bytes = b""
    seconds: float = 0.0
    #: How many requests it applies to; None means every matching request.
    times: int | None = None


@dataclass
class Recorded:
    action: str
    params: dict[str, str] = field(default_factory=dict)


class FaultProxy:
    """The proxy server; `url` is what awsv should use as its STS endpoint."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        if self.upstream.hostname is None:
            raise ValueError(f"not an http:// address: {upstream!r}")
        self._upstream_host = self.upstream.hostname
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: list[Recorded] = []
        self._http = LoopbackServer(self._handle)
        self.url = self._http.base_url

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def reset(self) -> None:
        """No faults, no recorded requests."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()

    # -- configuring faults -------------------------------------------------

    def fail(self, action: str, code: str, message: str, *, status: int = 400, times: int | None = None) -> None:
        """Answer `action` with an STS error document."""
        self._add(Fault(action, "error", status=status, body=sts_error_xml(code, message), times=times))

    def throttle(self, action: str, *, times: int | None = None) -> None:
        self.fail(action, "Throttling", "Rate exceeded", status=400, times=times)

    def delay(self, action: str, seconds: float, *, times: int | None = None) -> None:
        """Forward `action` only after `seconds` (longer than the read timeout: a timeout)."""
        self._add(Fault(action, "delay", seconds=seconds, times=times))

    def close(self, action: str, *, times: int | None = None) -> None:
        """Drop the connection without any answer."""
        self._add(Fault(action, "close", times=times))

    def garbage(
        self,
        action: str,
        body: bytes = b"<html>\x00\xff not STS at all",
        *,
        status: int = 200,
        times: int | None = None,
    ) -> None:
        """Answer with a body that is not an STS response."""
        self._add(Fault(action, "garbage", status=status, body=body, times=times))

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # -- what was asked -----------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def count(self, action: str | None = None) -> int:
        """How many requests (for `action`, or in total) reached the proxy."""
        return sum(1 for r in self.requests if action is None or r.action == action)

    def params(self, action: str) -> list[dict[str, str]]:
        """The form parameters of every request for `action`, in order."""
        return [r.params for r in self.requests if r.action == action]

    # -- serving ------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        query = urllib.parse.urlsplit(handler.path).query
        params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace") or query))
        action = params.get("Action", "")
        with self._lock:
            self._requests.append(Recorded(action, params))
            fault = next(
                (f for f in self._faults if f.action in (action, "*") and (f.times is None or f.times > 0)), None
            )
            if fault is not None and fault.times is not None:
                fault.times -= 1
        try:
            if fault is None:
                self._forward(handler, body)
            elif fault.kind == "delay":
                time.sleep(fault.seconds)
                self._forward(handler, body)
            elif fault.kind == "close":
                handler.close_connection = True
                handler.connection.close()
            else:
                ctype = "text/xml" if fault.kind == "error" else "text/html"
                self._reply(handler, fault.status, [("Content-Type", ctype)], fault.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout): nothing to answer

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        conn = http.client.HTTPConnection(self._upstream_host, self.upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(handler.command, handler.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            self._reply(handler, response.status, kept, data)
        finally:
            conn.close()

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        handler.send_response(status)
        for key, value in headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()


@pytest.fixture(scope="session")
def fault_proxy_server(moto_url: str) -> Iterator[FaultProxy]:
    """One proxy in front of moto for the whole session."""
    proxy = FaultProxy(moto_url)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def fault_proxy(fault_proxy_server: FaultProxy, moto_url: str) -> FaultProxy:
    """The proxy with no faults and no recorded requests, and moto freshly reset."""
    reset_moto(moto_url)
    fault_proxy_server.reset()
    return fault_proxy_server


# -- awsv wired to the proxy ---------------------------------------------------


@contextlib.contextmanager
def unanswered_endpoint() -> Iterator[str]:
    """A URL whose connections are never accepted: a real connect timeout, locally.

    A listening socket with a backlog of 0, whose queue is filled first, makes
    the kernel drop further SYNs, so a client's connect() hangs until its own
    timeout — what a firewalled or dead STS endpoint looks like.
    """
    server = socket.socket()
    fillers: list[socket.socket] = []
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        server.close()


class AwsvWorld:
    """A HOME with an AWS config, a real file vault and STS behind the fault proxy."""

    def __init__(self, home: Path, env: dict[str, str], proxy: FaultProxy, moto_url: str) -> None:
        self.home = home
        self.env = env
        self.proxy = proxy
        self.moto_url = moto_url
        env["AWS_ENDPOINT_URL_STS"] = proxy.url
        self._ctx: Any = None
        #: Secrets a test stored here, which no message may contain (the test fills it).
        self.secrets: list[str] = []

    def config(self, text: str) -> None:
        """Write ~/.aws/config and forget the parsed copy."""
        Path(self.env["AWS_CONFIG_FILE"]).write_text(textwrap.dedent(text))
        if self._ctx is not None:
            self._ctx._config = None

    def new_process(self) -> None:
        """Forget the Context and its unlocked vault, as a new awsv process would start."""
        self._ctx = None

    @property
    def ctx(self) -> Any:
        """One Context (and so one unlocked vault) per world, like one awsv process."""
        if self._ctx is None:
            from awsv.context import Context
            from awsv.vault import open_vault

            # The same passphrase child processes get from AWSV_FILE_PASSPHRASE.
            passphrase = self.env.get("AWSV_FILE_PASSPHRASE") or PASSPHRASE
            vault = open_vault("file", env=self.env, passphrase_provider=lambda creating: passphrase)
            self._ctx = Context(env=self.env, _vault=vault)
        return self._ctx

    def add_key(self, profile: str, user: str | None = None) -> tuple[str, str]:
        """Create an IAM user in moto and store its key for `profile` in the vault."""
        from awsv.vault.items import LongTermKey, key_item_name

        key_id, secret = create_user_with_key(self.moto_url, user or f"user-{profile}")
        self.ctx.vault.set(key_item_name(profile), LongTermKey(key_id, secret).to_item())
        return key_id, secret

    def get(self, profile: str, **opts: Any) -> Any:
        """`get_credentials` for `profile`; keyword args beyond SessionOptions' go to the call."""
        from awsv.sessions import SessionOptions, get_credentials

        fields = {k: opts.pop(k) for k in ("duration", "no_session", "region", "mfa_token") if k in opts}
        return get_credentials(self.ctx, profile, SessionOptions(**fields), **opts)

    def session_items(self) -> dict[str, Any]:
        """Every cached-session item in the vault, by name (read fresh from the file)."""
        vault = self.ctx.vault
        return {n: vault.get(n) for n in vault.list() if n.startswith("session/")}

    def script(self, name: str, body: str) -> Path:
        """An executable shell script in the test's temp dir."""
        path = self.home / "bin" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
        path.chmod(0o755)
        return path


#: The file vault's passphrase in these tests.
PASSPHRASE = "pw for the sts tests"


@pytest.fixture
def world(home: Path, env: dict[str, str], fault_proxy: FaultProxy, moto_url: str) -> AwsvWorld:
    """awsv in a fresh HOME, with STS (AWS_ENDPOINT_URL_STS) going through the fault proxy."""
    return AwsvWorld(home, env, fault_proxy, moto_url)
