"""The two ways to sign in to IAM Identity Center: PKCE in a browser, or a device code.

Authorization code with PKCE (RFC 7636), as the AWS CLI does by default:
awsv listens on a one-shot loopback redirect URI (`http://127.0.0.1:PORT/
oauth/callback`, RFC 8252: the port is free to vary), opens the
authorization page in the user's browser (through `awsv.browser`, so the
address never shows in `ps`), checks the returned `state` in constant time
and redeems the code with its verifier. Nothing but the browser's one
redirect is ever answered.

Device code (RFC 8628), for SSH sessions, containers, or `--device-code`:
the verification URL and the user code are printed plainly; awsv polls
CreateToken at the server's interval, adds five seconds on each slow-down,
and gives up when the device code expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer

from awsv.context import Context
from awsv.sso.api import (
    DEVICE_GRANT,
    Api,
    NewToken,
    Registration,
    SsoAccessDenied,
    SsoAuthorizationPending,
    SsoError,
    SsoExpired,
    SsoSlowDown,
    authorize_url,
)
from awsv.sso.settings import SsoSession

#: Registered once; the port of each sign-in varies (loopback rule of RFC 8252).
REDIRECT_BASE = "http://127.0.0.1/oauth/callback"
#: Seconds to wait for the user to approve in a browser (AWSV_SSO_SIGNIN_TIMEOUT).
DEFAULT_SIGNIN_TIMEOUT = 300.0


def signin_timeout(env: Mapping[str, str]) -> float:
    from awsv.durations import parse_duration

    raw = env.get("AWSV_SSO_SIGNIN_TIMEOUT")
    return float(parse_duration(raw, "AWSV_SSO_SIGNIN_TIMEOUT")) if raw else DEFAULT_SIGNIN_TIMEOUT


def graphical(env: Mapping[str, str]) -> bool:
    """Whether a browser can be opened here: $BROWSER, a display, or macOS."""
    if env.get("BROWSER"):
        return True
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return True
    return sys.platform == "darwin" and not env.get("SSH_CONNECTION")


def tell(ctx: Context, message: str) -> None:
    """A sign-in message: on the terminal when there is one (a credential_process's
    stderr is captured by the SDK), else on stderr."""
    from awsv.tty import NoTerminal, has_terminal, say

    if has_terminal():
        try:
            say(f"awsv: {message}")
            return
        except NoTerminal:
            pass
    ctx.info(message)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class _Callback:
    """The loopback redirect URI: answers one request carrying our `state`, then is done."""

    def __init__(self, state: str) -> None:
        self._state = state
        self.result: dict[str, str] | None = None
        self.done = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # the query holds the authorization code

            def do_GET(self) -> None:
                owner._answer(self)

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{self.port}/oauth/callback"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(split.query).items()}
        state_ok = hmac.compare_digest(query.get("state", "").encode(), self._state.encode())
        if split.path != "/oauth/callback" or not state_ok or self.done.is_set():
            body, status = b"Not found.\n", 404
        else:
            self.result = query
            self.done.set()
            ok = "code" in query
            status = 200
            body = (
                b"Signed in: you can close this tab and return to the terminal.\n"
                if ok
                else b"Sign-in was not completed. You can close this tab.\n"
            )
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def with_browser(ctx: Context, api: Api, session: SsoSession, reg: Registration, *, timeout: float) -> NewToken:
    """Authorization code + PKCE through the user's browser; the new token."""
    from awsv.browser import BrowserError, open_in_browser

    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(32)
    callback = _Callback(state)
    try:
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": reg.client_id,
                "redirect_uri": callback.redirect_uri,
                "state": state,
                "code_challenge_method": "S256",
                "scopes": " ".join(session.scopes),
                "code_challenge": _challenge(verifier),
            }
        )
        tell(ctx, f"signing in to {session.label}: approve in the browser window that opens")
        started = time.monotonic()
        try:
            open_in_browser(ctx, f"{authorize_url(ctx.env, session.region)}?{query}", timeout=timeout)
        except BrowserError as exc:
            raise SsoError(
                f"signing in to {session.label}: {exc.message}",
                hint="fix $BROWSER, or sign in with `awsv sso login --device-code`",
            ) from None
        if not callback.done.wait(max(1.0, timeout - (time.monotonic() - started))):
            raise SsoExpired(
                f"signing in to {session.label}: no answer from the browser within {timeout:g}s",
                hint="try again, or use `awsv sso login --device-code`; AWSV_SSO_SIGNIN_TIMEOUT sets the wait",
            )
    finally:
        callback.close()
    result = callback.result or {}
    if "code" not in result:
        error = result.get("error", "no code")
        if error == "access_denied":
            raise SsoAccessDenied(f"signing in to {session.label}: the sign-in was denied in the browser")
        raise SsoError(f"signing in to {session.label}: the browser came back with {error!r}")
    return api.create_token(
        reg, "authorization_code", code=result["code"], codeVerifier=verifier, redirectUri=callback.redirect_uri
    )


def with_device_code(
    ctx: Context,
    api: Api,
    session: SsoSession,
    reg: Registration,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> NewToken:
    """The device-code flow: print the URL and code, poll until approved, denied or expired."""
    auth = api.start_device_authorization(reg, session.start_url)
    tell(ctx, f"to sign in to {session.label}, open {auth.verification_uri} and enter the code {auth.user_code}")
    if auth.verification_uri_complete:
        tell(ctx, f"or open {auth.verification_uri_complete}")
    interval = max(1, auth.interval)
    deadline = clock() + auth.expires_in
    while True:
        sleep(interval)
        if clock() >= deadline:
            break
        try:
            return api.create_token(reg, DEVICE_GRANT, deviceCode=auth.device_code)
        except SsoAuthorizationPending:
            continue
        except SsoSlowDown:
            interval += 5
        except SsoExpired:
            break
        except SsoAccessDenied:
            raise SsoAccessDenied(f"signing in to {session.label}: the sign-in was denied") from None
    raise SsoExpired(
        f"signing in to {session.label}: the code {auth.user_code} expired before it was approved",
        hint="run `awsv sso login` again",
    )
