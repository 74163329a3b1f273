"""The local credential endpoint: container-credentials JSON over HTTP, for one token.

The AWS SDKs and CLI read credentials from `AWS_CONTAINER_CREDENTIALS_FULL_URI`,
sending `AWS_CONTAINER_AUTHORIZATION_TOKEN` as the `Authorization` header, and
expect `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}` back (ECS's
format). This module is that server and nothing else; what it hands out
comes from a `provide()` callable (`awsv.delivery.renewal.Renewing.current`).

What it promises, because whoever reaches it gets AWS credentials:

* It listens on 127.0.0.1 unless told otherwise (`parse_listen`), on a port
  the kernel picks; neither port nor token is written anywhere.
* Every request must carry the endpoint's token, a fresh 256-bit random
  value, compared in constant time (`hmac.compare_digest`). No token → 401,
  a wrong one → 403, both with an empty body; the check comes before
  anything else, so an unauthenticated client learns nothing, not even
  which path or method would work.
* Only `GET PATH` with no body is served (405 for other methods, 404 for
  other paths). There is no other endpoint: nothing stops, changes or
  inspects the server over HTTP.
* Bounded work per client: the request head is at most MAX_HEAD bytes
  (431 beyond), the whole request must arrive within REQUEST_DEADLINE
  seconds (the connection is closed otherwise), one request per
  connection, and at most MAX_CONNECTIONS at once (more are closed at
  once). A stalled or hostile client costs one thread for a few seconds.
* Error answers from `provide()` (`RenewalFailed`) are a 503 with a JSON
  body saying why and what to do, which botocore puts in its error message.

The request path imports only the standard library's socket, json and hmac:
no boto3, no crypto (the credentials are already in memory).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from datetime import UTC

from awsv.credentials import Credentials
from awsv.errors import UsageError

PATH = "/"
#: Bytes of request line and headers; botocore sends about 300.
MAX_HEAD = 8192
#: Seconds a client has to send its whole request.
REQUEST_DEADLINE = 5.0
#: Seconds to send an answer.
SEND_TIMEOUT = 5.0
#: Connections handled at once; more are closed without an answer.
MAX_CONNECTIONS = 64
LOOPBACK = "127.0.0.1"

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}

Provide = Callable[[], Credentials]
#: What `_read_head` returns for a head over MAX_HEAD (an empty head is b"").
_TOO_LARGE = b"<too large>"


class Unavailable(Exception):
    """What `provide()` raises when it has nothing to hand out: a status and a JSON body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_listen(text: str) -> tuple[str, int]:
    """`ADDR`, `ADDR:PORT` or `[V6ADDR]:PORT` -> (address, port); only IP literals (no DNS).

    Raises UsageError naming the value.
    """
    raw = text.strip()
    host, port = raw, "0"
    if raw.startswith("["):
        inside, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise UsageError(f"--listen {text!r}: write an IPv6 address as [ADDR] or [ADDR]:PORT")
        host, port = inside, rest[1:] or "0"
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(
            f"--listen {text!r}: {host!r} is not an IP address",
            hint="use an address such as 127.0.0.1, 172.17.0.1:9911 or [::1]",
        ) from None
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen {text!r}: {port!r} is not a port number")
    return str(address), int(port)


def is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host).is_loopback


def sdk_accepts_http(host: str) -> bool:
    """Whether the AWS SDKs accept plain HTTP to `host`: loopback and the ECS/EKS link-local addresses."""
    address = ipaddress.ip_address(host)
    allowed = {ipaddress.ip_address(a) for a in ("169.254.170.2", "169.254.170.23", "fd00:ec2::23")}
    return address.is_loopback or address in allowed


def credentials_document(creds: Credentials) -> bytes:
    """The container-credentials JSON (ECS's field names, Expiration in UTC with a Z)."""
    assert creds.expiration is not None  # noqa: S101 - narrows the type; only temporary credentials are served
    doc = {
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "Token": creds.session_token or "",
        "Expiration": creds.expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if creds.account_id:
        doc["AccountId"] = creds.account_id
    return json.dumps(doc).encode()


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], endpoint: Endpoint) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.endpoint = endpoint
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def verify_request(self, request: object, client_address: object) -> bool:
        # False closes the connection at once (socketserver's shutdown_request).
        return self._slots.acquire(blocking=False)

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that misbehaves is dropped; nothing is printed


class _Handler(socketserver.BaseRequestHandler):
    server: _Server
    request: socket.socket

    def handle(self) -> None:
        endpoint = self.server.endpoint
        head = self._read_head(time.monotonic() + REQUEST_DEADLINE)
        if head is None:
            return  # the client went away or was too slow: nothing to answer
        if head is _TOO_LARGE:
            self._answer(431)
            return
        status, body, extra = endpoint.respond(head)
        self._answer(status, body, extra)

    def _read_head(self, deadline: float) -> bytes | None:
        """The request line and headers; _TOO_LARGE when too large, None on timeout or EOF."""
        buf = bytearray()
        sock = self.request
        while b"\r\n\r\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                chunk = sock.recv(4096)
            except OSError:  # TimeoutError included
                return None
            if not chunk:
                return None
            buf += chunk
            if len(buf) > MAX_HEAD:
                return _TOO_LARGE
        return bytes(buf[: buf.index(b"\r\n\r\n")])

    def _answer(self, status: int, body: bytes = b"", extra: tuple[tuple[str, str], ...] = ()) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
        if body:
            lines.append("Content-Type: application/json")
        lines += [f"Content-Length: {len(body)}", "Cache-Control: no-store", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in extra]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body
        sock = self.request
        with contextlib.suppress(OSError):
            sock.settimeout(SEND_TIMEOUT)
            sock.sendall(data)
            # Read (and drop) what the client still sends, briefly, so closing
            # does not reset the connection before it has read the answer.
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(0.5)
            drained = 0
            while drained < 1 << 16:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                drained += len(chunk)


class Endpoint:
    """One credential endpoint: a listening socket, a token, and `provide` (see module docstring)."""

    def __init__(self, provide: Provide, *, host: str = LOOPBACK, port: int = 0, token: str | None = None) -> None:
        self._provide = provide
        self.token = token or secrets.token_urlsafe(32)
        self._token = self.token.encode("ascii")
        try:
            self._server = _Server((host, port), self)
        except OSError as exc:
            from awsv.errors import AwsvError

            raise AwsvError(
                f"cannot listen on {host}:{port} for the credential endpoint: {exc.strerror or exc}"
            ) from None
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    def url(self, host: str | None = None) -> str:
        """The URL clients use; a wildcard listen address becomes loopback."""
        host = host or self.host
        if host in ("0.0.0.0", "::"):
            host = "::1" if host == "::" else LOOPBACK
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}{PATH}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="awsv-endpoint", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting and close the socket; answers being written may finish."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    # -- one request ----------------------------------------------------------

    def respond(self, head: bytes) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
        """(status, body, extra headers) for a request head (request line + headers, no CRLFCRLF)."""
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        headers: list[tuple[bytes, bytes]] = []
        malformed = False
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                malformed = True
                continue
            headers.append((name.lower(), value.strip()))
        # The token first: without it, nothing else about the request gets an answer.
        tokens = [value for name, value in headers if name == b"authorization"]
        if not tokens:
            return 401, b"", ()
        # Always compare (in constant time), even when the count is wrong.
        matches = hmac.compare_digest(tokens[0], self._token)
        if len(tokens) != 1 or not matches:
            return 403, b"", ()
        if malformed or len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            return 400, b"", ()
        method, target = parts[0], parts[1]
        if method != b"GET":
            return 405, b"", (("Allow", "GET"),)
        if target != PATH.encode():
            return 404, b"", ()
        length = [value for name, value in headers if name == b"content-length"]
        if any(name == b"transfer-encoding" for name, _ in headers) or any(v != b"0" for v in length):
            return 400, b"", ()
        try:
            creds = self._provide()
        except Unavailable as exc:
            return 503, json.dumps({"Code": exc.code, "Message": exc.message}).encode(), ()
        return 200, credentials_document(creds), ()
