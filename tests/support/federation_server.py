"""A local stand-in for AWS's federation endpoint (`https://signin.aws.amazon.com/federation`).

Why it exists: the real endpoint cannot be reached from the test machine, and
it only accepts real AWS credentials. awsv points at this server through its
documented `AWSV_FEDERATION_URL` setting (not a test hook), and the server
checks each `getSigninToken` request the way AWS documents it ("Enable custom
identity broker access to the AWS console"), answering like AWS does:

- `GET /federation` only; other methods 405, other paths 404;
- `Action=getSigninToken`, with only `Session` and optionally
  `SessionDuration`, each given once; anything else is a 400;
- `Session` is a JSON object with exactly `sessionId`, `sessionKey` and
  `sessionToken`, all non-empty strings;
- the credentials are real: the server asks STS (moto, over HTTP) whose they
  are. Unknown ones are refused;
- `SessionDuration` is whole seconds in 900..43200, and only accepted with
  role credentials (an `assumed-role/` identity) that were not obtained by role
  chaining. STS cannot tell a chained role from a direct one, so a test names
  the roles it reaches by chaining in `chained_roles`; moto also returns the
  same static key for GetFederationToken and GetSessionToken (and answers
  `user/moto` for it), so both count as "not a role" here — real AWS would
  refuse GetSessionToken credentials altogether.

A good request gets `{"SigninToken": "<random>"}`. `GET ?Action=login&…`
(what a browser opens) is answered 200 when its SigninToken was issued here,
so a test can follow the whole sign-in. Every request is recorded, and
`fail_next` makes the next answers an error status or a broken body.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.support.loopback_http import LoopbackServer
from tests.support.moto_server import REGION

#: AWS's bounds for SessionDuration (seconds).
MIN_SESSION, MAX_SESSION = 900, 43200
_SESSION_KEYS = {"sessionId", "sessionKey", "sessionToken"}


@dataclass
class Recorded:
    """One request to the stand-in, and what it answered."""

    method: str
    path: str
    params: dict[str, list[str]]
    status: int = 0
    #: The decoded Session JSON of a getSigninToken request.
    session: dict[str, Any] | None = None
    #: Whose credentials they were, as STS said.
    arn: str | None = None
    #: The SigninToken issued (getSigninToken) or presented (login).
    token: str | None = None
    reason: str = ""

    def one(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class _Fault:
    status: int
    body: bytes
    content_type: str


class FederationServer:
    """The stand-in; `url` is what AWSV_FEDERATION_URL should be set to."""

    def __init__(self, sts_url: str) -> None:
        self.sts_url = sts_url
        self.chained_roles: set[str] = set()
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._tokens: dict[str, str] = {}  # token -> ARN it signs in
        self._faults: list[_Fault] = []
        self._http = LoopbackServer(self._handle)
        self.url = self._http.base_url + "/federation"

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._tokens.clear()
            self._faults.clear()
            self.chained_roles = set()

    # -- test controls --------------------------------------------------------

    def fail_next(
        self,
        status: int = 500,
        body: bytes = b"<html>Internal error</html>",
        content_type: str = "text/html",
        times: int = 1,
    ) -> None:
        """Answer the next `times` getSigninToken requests with this instead."""
        with self._lock:
            self._faults.extend(_Fault(status, body, content_type) for _ in range(times))

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def token_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.one("Action") == "getSigninToken"]

    def logins(self) -> list[Recorded]:
        return [r for r in self.requests if r.one("Action") == "login"]

    def issued(self) -> dict[str, str]:
        with self._lock:
            return dict(self._tokens)

    # -- serving --------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        split = urllib.parse.urlsplit(handler.path)
        params = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        record = Recorded(handler.command, split.path, params)
        status, ctype, body = self._answer(record)
        record.status = status
        with self._lock:
            self._requests.append(record)
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _answer(self, r: Recorded) -> tuple[int, str, bytes]:
        if r.path != "/federation":
            return self._refuse(r, 404, "no such path")
        if r.method != "GET":
            return self._refuse(r, 405, "the federation endpoint is used with GET")
        action = r.params.get("Action", [])
        if action == ["login"]:
            return self._login(r)
        if action != ["getSigninToken"]:
            return self._refuse(r, 400, "Action must be getSigninToken or login")
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            r.reason = "injected fault"
            try:  # record what was sent, so a test can check it never leaks back out
                r.session = json.loads(r.one("Session") or "")
            except ValueError:
                pass
            return fault.status, fault.content_type, fault.body
        return self._signin_token(r)

    def _signin_token(self, r: Recorded) -> tuple[int, str, bytes]:
        extra = set(r.params) - {"Action", "Session", "SessionDuration"}
        if extra:
            return self._refuse(r, 400, f"unexpected parameters {sorted(extra)}")
        if any(len(v) != 1 for v in r.params.values()):
            return self._refuse(r, 400, "a parameter is repeated")
        try:
            session = json.loads(r.one("Session") or "")
        except ValueError:
            return self._refuse(r, 400, "Session is not JSON")
        if (
            not isinstance(session, dict)
            or set(session) != _SESSION_KEYS
            or not all(isinstance(v, str) and v for v in session.values())
        ):
            return self._refuse(r, 400, "Session must hold exactly sessionId, sessionKey, sessionToken")
        r.session = session
        arn = _caller_arn(self.sts_url, session["sessionId"], session["sessionKey"], session["sessionToken"])
        r.arn = arn
        if arn is None:
            return self._refuse(r, 400, "STS does not know these credentials")
        duration = r.one("SessionDuration")
        if duration is not None:
            if not duration.isdigit() or not MIN_SESSION <= int(duration) <= MAX_SESSION:
                return self._refuse(r, 400, "SessionDuration must be 900..43200")
            role = _role_of(arn)
            if role is None:
                return self._refuse(r, 400, "SessionDuration is only allowed with AssumeRole credentials")
            if role in self.chained_roles:
                return self._refuse(r, 400, "SessionDuration is not allowed for role chaining")
        token = secrets.token_urlsafe(96)
        r.token = token
        with self._lock:
            self._tokens[token] = arn
        return 200, "application/json", json.dumps({"SigninToken": token}).encode()

    def _login(self, r: Recorded) -> tuple[int, str, bytes]:
        for name in ("Issuer", "Destination", "SigninToken"):
            if len(r.params.get(name, [])) != 1:
                return self._refuse(r, 400, f"login needs one {name}")
        token = r.one("SigninToken") or ""
        r.token = token
        with self._lock:
            known = token in self._tokens
        if not known:
            return self._refuse(r, 400, "unknown SigninToken")
        return 200, "text/html", b"<html>signed in</html>"

    @staticmethod
    def _refuse(r: Recorded, status: int, reason: str) -> tuple[int, str, bytes]:
        r.reason = reason
        return status, "text/html", f"<html>{reason}</html>".encode()


def _role_of(arn: str) -> str | None:
    """`arn:aws:sts::1:assumed-role/Admin/session` -> `Admin`; None for other identities."""
    resource = arn.split(":", 5)[-1]
    if not resource.startswith("assumed-role/"):
        return None
    return resource.split("/")[1]


def _caller_arn(sts_url: str, key_id: str, secret: str, token: str) -> str | None:
    """Whose these credentials are, asking STS over HTTP; None when STS refuses them.

    Credentials live in one partition, and moto keeps one STS per partition,
    so each partition is asked in turn (like trying the credentials against
    each partition's STS); the first that knows them as a role or user wins.
    """
    import boto3
    from botocore.exceptions import ClientError

    first: str | None = None
    for region in (REGION, "cn-north-1", "us-gov-west-1"):
        session = boto3.session.Session(
            aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token, region_name=region
        )
        try:
            arn = str(session.client("sts", endpoint_url=sts_url).get_caller_identity()["Arn"])
        except ClientError:
            continue
        if not arn.endswith(":user/moto"):  # moto's answer for credentials it does not know
            return arn
        first = first or arn
    return first


@pytest.fixture(scope="session")
def federation_server(moto_url: str) -> Iterator[FederationServer]:
    """One stand-in for the session, checking credentials against the shared moto."""
    server = FederationServer(moto_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def federation(federation_server: FederationServer) -> FederationServer:
    """The stand-in with nothing recorded, no faults and no chained roles."""
    federation_server.reset()
    return federation_server
