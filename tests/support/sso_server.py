"""A local stand-in for IAM Identity Center: the SSO OIDC service and the SSO portal.

Why it exists: neither moto nor anything installable here emulates `sso-oidc`
or `sso` (see /work/shared/TESTING.md), and the real services need a real
organisation. It is written from botocore's published service models
(`botocore/data/sso-oidc/2019-06-10/service-2.json`, `sso/2019-06-10/…`):
the same paths, methods, member names and locations (query string, the
`x-amz-sso_bearer_token` header), JSON bodies, and errors as AWS sends them,
with the error code in the `x-amzn-ErrorType` header, which is where botocore
reads it. `tests/test_sso_server.py` drives it with boto3's own clients
(paginators included) to check that claim. Clients reach it the standard way:
`AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO` both set to `url`.

SSO OIDC
  POST /client/register        RegisterClient
  POST /device_authorization   StartDeviceAuthorization
  POST /token                  CreateToken: device_code (pending, slow down,
                               expired, access denied), authorization_code with
                               the PKCE verifier, refresh_token (invalid grant
                               once revoked)
  GET  /authorize              the authorization endpoint a browser opens
                               (answers a page naming the approval URL)
  POST /authorize/approve      what the user's "Allow" click posts: a 302 back
                               to the client's redirect URI with code and state
  GET  /device?user_code=      the verification page; POST /device/approve
                               approves (or `deny=1` denies) a device code
Portal
  GET  /federation/credentials GetRoleCredentials
  GET  /assignment/accounts    ListAccounts (next_token/max_result paging)
  GET  /assignment/roles       ListAccountRoles (same paging)
  POST /logout                 Logout: the access token and its refresh token die

Role credentials are random `ASIA…` keys; moto's STS in its default mode
accepts any key, so they can sign AssumeRole in chain tests.
Counters (`approvals`, `grants`, `requests`) let tests prove how many
sign-ins and refreshes happened.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

import pytest

from tests.support.loopback_http import LoopbackServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: AWS's documented lifetimes, shortened where tests need them shorter.
ACCESS_TOKEN_LIFETIME = 3600
DEVICE_CODE_LIFETIME = 600
ROLE_CREDENTIALS_LIFETIME = 3600


class _Operation(Protocol):
    """One API operation of the stand-in: a bound `_name` method taking what the request carries."""

    __name__: str

    def __call__(self, *, body: dict[str, Any], query: dict[str, str], bearer: str | None) -> dict[str, Any] | None: ...


@dataclass
class Account:
    account_id: str
    name: str
    email: str
    roles: list[str]


@dataclass
class _Client:
    secret: str
    scopes: list[str]
    redirect_uris: list[str]
    grant_types: list[str]


@dataclass
class _Device:
    client_id: str
    user_code: str
    expires: float
    interval: int
    state: str = "pending"  # pending | approved | denied | used
    last_poll: float = 0.0


@dataclass
class _AuthRequest:
    client_id: str
    redirect_uri: str
    state: str
    challenge: str
    scopes: list[str]


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    used: bool = False


@dataclass
class _Token:
    client_id: str
    expires: float
    scopes: list[str]
    refresh: str | None = None
    revoked: bool = False


class SsoServer:
    """The stand-in; point AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO at `url`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handle)
        self.url = self._http.base_url
        self.reset()

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def reset(self) -> None:
        with self._lock:
            self._clients: dict[str, _Client] = {}
            self._devices: dict[str, _Device] = {}
            self._auth_requests: dict[str, _AuthRequest] = {}
            self._codes: dict[str, _Code] = {}
            self._access: dict[str, _Token] = {}
            self._refresh: dict[str, str] = {}  # refresh token -> client id ("" once revoked)
            self.accounts: list[Account] = [
                Account("111111111111", "Production", "prod@example.com", ["Admin", "ReadOnly"]),
                Account("222222222222", "Staging", "staging@example.com", ["Admin"]),
            ]
            self.access_token_lifetime = ACCESS_TOKEN_LIFETIME
            self.role_credentials_lifetime = ROLE_CREDENTIALS_LIFETIME
            self.device_interval = 1
            self.page_size = 1  # small, so every client must follow nextToken
            self.issue_refresh_tokens = True
            #: How the scripted user answers the next authorization: "allow" or "deny".
            self.user_answer = "allow"
            self.approvals = 0  # sign-ins the user approved (browser or device)
            self.grants: Counter[str] = Counter()  # tokens issued, by grant type
            self.requests: Counter[str] = Counter()  # calls, by operation
            self.logouts = 0

    # -- test controls --------------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens stay valid)."""
        with self._lock:
            for token in self._access.values():
                token.expires = 0.0

    def expire_device_codes(self) -> None:
        """Every device code issued so far expires now (ExpiredTokenException on the next poll)."""
        with self._lock:
            for device in self._devices.values():
                device.expires = 0.0

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is refused from now on (invalid_grant)."""
        with self._lock:
            for key in self._refresh:
                self._refresh[key] = ""

    def approve_device(self, user_code: str, *, deny: bool = False) -> bool:
        """What the user does on the verification page; False for an unknown code."""
        with self._lock:
            for device in self._devices.values():
                if device.user_code == user_code and device.state == "pending":
                    device.state = "denied" if deny else "approved"
                    if not deny:
                        self.approvals += 1
                    return True
        return False

    def valid_access_tokens(self) -> set[str]:
        now = time.time()
        with self._lock:
            return {k for k, t in self._access.items() if not t.revoked and t.expires > now}

    def issued_secrets(self) -> set[str]:
        """Every token and client secret handed out: tests grep the disk for them."""
        with self._lock:
            found = set(self._access) | set(self._refresh)
            found |= {c.secret for c in self._clients.values()}
            return found

    # -- serving --------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(handler.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        route = (handler.command, split.path)
        try:
            status, headers, body = self._route(route, query, raw, handler)
        except _Fail as fail:
            status, headers, body = (
                fail.status,
                {"x-amzn-ErrorType": fail.code},
                json.dumps(
                    {"error": fail.oauth or fail.code, "error_description": fail.message, "message": fail.message}
                ).encode(),
            )
        if "Content-Type" not in headers:
            headers["Content-Type"] = "application/json"
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _route(
        self, route: tuple[str, str], query: dict[str, str], raw: bytes, handler: BaseHTTPRequestHandler
    ) -> tuple[int, dict[str, str], bytes]:
        table: dict[tuple[str, str], _Operation] = {
            ("POST", "/client/register"): self._register,
            ("POST", "/device_authorization"): self._device_authorization,
            ("POST", "/token"): self._token,
            ("GET", "/federation/credentials"): self._role_credentials,
            ("GET", "/assignment/accounts"): self._accounts,
            ("GET", "/assignment/roles"): self._roles,
            ("POST", "/logout"): self._logout,
        }
        operation = table.get(route)
        if operation is not None:
            with self._lock:
                self.requests[operation.__name__.lstrip("_")] += 1
                bearer = handler.headers.get("x-amz-sso_bearer_token")
                result = operation(body=_json(raw) if route[0] == "POST" and raw else {}, query=query, bearer=bearer)
            return 200, {}, json.dumps(result).encode() if result is not None else b""
        if route == ("GET", "/authorize"):
            return self._authorize_page(query)
        if route == ("POST", "/authorize/approve"):
            return self._authorize_approve(urllib.parse.parse_qs(raw.decode()))
        if route == ("GET", "/device"):
            page = json.dumps({"user_code": query.get("user_code"), "approve": f"{self.url}/device/approve"})
            return 200, {}, page.encode()
        if route == ("POST", "/device/approve"):
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            ok = self.approve_device(form.get("user_code", ""), deny=form.get("deny") == "1")
            return (200 if ok else 404), {}, b"{}"
        raise _Fail(404, "ResourceNotFoundException", "no such operation")

    # -- SSO OIDC -------------------------------------------------------------

    def _register(self, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        _require(body, "clientName", "clientType")
        if body["clientType"] != "public":
            raise _Fail(400, "InvalidRequestException", "clientType must be public", "invalid_request")
        grants = list(body.get("grantTypes") or [DEVICE_GRANT, "refresh_token"])
        if "authorization_code" in grants and not body.get("redirectUris"):
            raise _Fail(400, "InvalidRedirectUriException", "redirectUris required", "invalid_redirect_uri")
        client_id = _random(22)
        now = int(time.time())
        self._clients[client_id] = _Client(
            secret=_random(64),
            scopes=list(body.get("scopes") or []),
            redirect_uris=list(body.get("redirectUris") or []),
            grant_types=grants,
        )
        return {
            "clientId": client_id,
            "clientSecret": self._clients[client_id].secret,
            "clientIdIssuedAt": now,
            "clientSecretExpiresAt": now + 90 * 86400,
            "authorizationEndpoint": f"{self.url}/authorize",
            "tokenEndpoint": f"{self.url}/token",
        }

    def _client(self, body: dict[str, Any]) -> _Client:
        client = self._clients.get(str(body.get("clientId")))
        if client is None or client.secret != body.get("clientSecret"):
            raise _Fail(401, "InvalidClientException", "unknown client", "invalid_client")
        return client

    def _device_authorization(self, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        _require(body, "clientId", "clientSecret", "startUrl")
        self._client(body)
        code = _random(48)
        user_code = "-".join(_random(4, string.ascii_uppercase) for _ in range(2))
        self._devices[code] = _Device(
            str(body["clientId"]), user_code, time.time() + DEVICE_CODE_LIFETIME, self.device_interval
        )
        verify = f"{self.url}/device"
        return {
            "deviceCode": code,
            "userCode": user_code,
            "verificationUri": verify,
            "verificationUriComplete": f"{verify}?user_code={user_code}",
            "expiresIn": DEVICE_CODE_LIFETIME,
            "interval": self.device_interval,
        }

    def _token(self, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        _require(body, "clientId", "clientSecret", "grantType")
        client = self._client(body)
        grant = body["grantType"]
        if grant == DEVICE_GRANT:
            scopes = self._device_grant(body)
        elif grant == "authorization_code":
            scopes = self._code_grant(body)
        elif grant == "refresh_token":
            refresh = str(body.get("refreshToken") or "")
            if self._refresh.get(refresh) != body["clientId"]:
                raise _Fail(400, "InvalidGrantException", "refresh token is invalid", "invalid_grant")
            scopes = client.scopes
        else:
            raise _Fail(400, "UnsupportedGrantTypeException", f"unsupported {grant}", "unsupported_grant_type")
        self.grants[grant] += 1
        access = _random(64)
        refresh_token = None
        if self.issue_refresh_tokens and "sso:account:access" in scopes:
            refresh_token = str(body.get("refreshToken") or "") if grant == "refresh_token" else _random(64)
            self._refresh[refresh_token] = str(body["clientId"])
        self._access[access] = _Token(
            str(body["clientId"]), time.time() + self.access_token_lifetime, scopes, refresh_token
        )
        answer: dict[str, Any] = {"accessToken": access, "tokenType": "Bearer", "expiresIn": self.access_token_lifetime}
        if refresh_token:
            answer["refreshToken"] = refresh_token
        return answer

    def _device_grant(self, body: dict[str, Any]) -> list[str]:
        device = self._devices.get(str(body.get("deviceCode")))
        if device is None or device.client_id != body["clientId"] or device.state == "used":
            raise _Fail(400, "InvalidGrantException", "unknown device code", "invalid_grant")
        now = time.time()
        if now > device.expires:
            raise _Fail(400, "ExpiredTokenException", "device code expired", "expired_token")
        if device.state == "denied":
            raise _Fail(400, "AccessDeniedException", "the user denied access", "access_denied")
        if device.state == "pending":
            too_soon = now - device.last_poll < device.interval * 0.9
            device.last_poll = now
            if too_soon:
                device.interval += 5 if device.interval > 1 else 1
                raise _Fail(400, "SlowDownException", "slow down", "slow_down")
            raise _Fail(400, "AuthorizationPendingException", "authorization pending", "authorization_pending")
        device.state = "used"
        return self._clients[device.client_id].scopes

    def _code_grant(self, body: dict[str, Any]) -> list[str]:
        code = self._codes.get(str(body.get("code")))
        if code is None or code.used or code.client_id != body["clientId"]:
            raise _Fail(400, "InvalidGrantException", "unknown or used code", "invalid_grant")
        code.used = True
        if body.get("redirectUri") != code.redirect_uri:
            raise _Fail(400, "InvalidGrantException", "redirect_uri mismatch", "invalid_grant")
        verifier = str(body.get("codeVerifier") or "")
        if _s256(verifier) != code.challenge:
            raise _Fail(400, "InvalidGrantException", "PKCE verification failed", "invalid_grant")
        return code.scopes

    def _authorize_page(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        client = self._clients.get(query.get("client_id", ""))
        if (
            client is None
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or _loopback_any_port(query.get("redirect_uri", ""))
            not in {_loopback_any_port(u) for u in client.redirect_uris}
        ):
            return 400, {"Content-Type": "text/plain"}, b"bad authorization request"
        request_id = _random(16)
        with self._lock:
            self._auth_requests[request_id] = _AuthRequest(
                query["client_id"],
                query["redirect_uri"],
                query.get("state", ""),
                query["code_challenge"],
                (query.get("scopes") or "").split(),
            )
        page = (
            f'<html><form method="post" action="{self.url}/authorize/approve">'
            f'<input name="request" value="{request_id}"><button>Allow</button></form></html>'
        )
        return (
            200,
            {"Content-Type": "text/html", "X-Approve-Url": f"{self.url}/authorize/approve", "X-Request-Id": request_id},
            page.encode(),
        )

    def _authorize_approve(self, form: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            request = self._auth_requests.pop((form.get("request") or [""])[0], None)
            if request is None:
                return 400, {"Content-Type": "text/plain"}, b"unknown request"
            if self.user_answer == "deny":
                params = {"error": "access_denied", "state": request.state}
            else:
                code = _random(32)
                scopes = request.scopes or self._clients[request.client_id].scopes
                self._codes[code] = _Code(request.client_id, request.redirect_uri, request.challenge, scopes)
                self.approvals += 1
                params = {"code": code, "state": request.state}
        location = request.redirect_uri + "?" + urllib.parse.urlencode(params)
        return 302, {"Location": location}, b""

    # -- portal ---------------------------------------------------------------

    def _bearer(self, bearer: str | None) -> _Token:
        token = self._access.get(bearer or "")
        if token is None or token.revoked or token.expires <= time.time():
            raise _Fail(401, "UnauthorizedException", "Session token not found or invalid")
        return token

    def _role_credentials(self, query: dict[str, str], bearer: str | None, **_: Any) -> dict[str, Any]:
        self._bearer(bearer)
        account = next((a for a in self.accounts if a.account_id == query.get("account_id")), None)
        if account is None or query.get("role_name") not in account.roles:
            raise _Fail(403, "ForbiddenException", "No access")
        expiry_ms = int((time.time() + self.role_credentials_lifetime) * 1000)
        return {
            "roleCredentials": {
                "accessKeyId": "ASIA" + _random(16, string.ascii_uppercase + string.digits),
                "secretAccessKey": _random(40),
                "sessionToken": _random(200),
                "expiration": expiry_ms,
            }
        }

    def _accounts(self, query: dict[str, str], bearer: str | None, **_: Any) -> dict[str, Any]:
        self._bearer(bearer)
        rows = [{"accountId": a.account_id, "accountName": a.name, "emailAddress": a.email} for a in self.accounts]
        page, token = self._page(rows, query)
        return {"accountList": page, **({"nextToken": token} if token else {})}

    def _roles(self, query: dict[str, str], bearer: str | None, **_: Any) -> dict[str, Any]:
        self._bearer(bearer)
        account = next((a for a in self.accounts if a.account_id == query.get("account_id")), None)
        if account is None:
            raise _Fail(403, "ForbiddenException", "No access")
        rows = [{"roleName": r, "accountId": account.account_id} for r in account.roles]
        page, token = self._page(rows, query)
        return {"roleList": page, **({"nextToken": token} if token else {})}

    def _page(self, rows: list[dict[str, Any]], query: dict[str, str]) -> tuple[list[Any], str | None]:
        start = int(query.get("next_token") or 0)
        size = min(int(query.get("max_result") or self.page_size), self.page_size)
        end = start + size
        return rows[start:end], (str(end) if end < len(rows) else None)

    def _logout(self, bearer: str | None, **_: Any) -> None:
        token = self._access.get(bearer or "")
        if token is None or token.revoked:
            raise _Fail(401, "UnauthorizedException", "Session token not found or invalid")
        token.revoked = True
        if token.refresh:
            self._refresh[token.refresh] = ""
        self.logouts += 1
        return None


class _Fail(Exception):
    def __init__(self, status: int, code: str, message: str, oauth: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.oauth = status, code, message, oauth


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise _Fail(400, "InvalidRequestException", "body is not JSON", "invalid_request") from None
    if not isinstance(value, dict):
        raise _Fail(400, "InvalidRequestException", "body is not an object", "invalid_request")
    return value


def _require(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not body.get(n)]
    if missing:
        raise _Fail(400, "InvalidRequestException", f"missing {missing}", "invalid_request")


def _random(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _loopback_any_port(uri: str) -> str:
    """RFC 8252 section 7.3: a loopback redirect URI matches whatever its port."""
    parts = urllib.parse.urlsplit(uri)
    if parts.hostname in ("127.0.0.1", "::1", "localhost"):
        parts = parts._replace(netloc=parts.hostname)
    return urllib.parse.urlunsplit(parts)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture(scope="session")
def sso_server() -> Iterator[SsoServer]:
    server = SsoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sso(sso_server: SsoServer) -> SsoServer:
    """The stand-in, with no clients, tokens or counts left from another test."""
    sso_server.reset()
    return sso_server
