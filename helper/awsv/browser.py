"""Handing a bearer URL (a console sign-in link) to a browser without exposing it.

A browser's argv is readable by every local user in `ps`, so the link itself
is never passed: a loopback server answers one GET of a random 256-bit path
with a 302 to the link, and the browser gets that address. Only the first
fetch by a process of the same user (checked on Linux through /proc/net/tcp)
is redirected; then the address is dead. The browser is `$BROWSER`
(colon-separated commands, `%s` marks where the address goes) or Python's
`webbrowser`, and never receives the vault passphrase variables.

A text-mode browser (lynx, links, elinks, w3m, `www-browser`…) is never
started, from `$BROWSER` or from `webbrowser`'s console fallbacks: it would
take over the terminal full screen without a word, and the console sign-in
page does not work in one anyway. Without a graphical session, awsv says
what to do instead (`--stdout`, and open the link in a browser elsewhere).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Self

from awsv.context import Context
from awsv.errors import AwsvError, UsageError
from awsv.secret_env import SECRET_ENV_VARS, child_env

#: How long awsv waits for the browser to fetch the link.
TIMEOUT_VAR = "AWSV_LOGIN_TIMEOUT"


#: Terminal browsers, by program name: never started (see the module docstring).
TEXT_BROWSERS = frozenset(
    {"lynx", "links", "links2", "elinks", "w3m", "www-browser", "browsh", "netrik", "retawq", "edbrowse", "carbonyl"}
)

#: What to do when no graphical browser can open the link.
NO_BROWSER_HINT = (
    "run `awsv login --stdout PROFILE` and open the link it prints in a browser "
    "(on any machine; it works once, for 15 minutes), or set $BROWSER to a "
    "graphical browser"
)


class BrowserError(AwsvError):
    """The browser could not be started, or never fetched the link."""


def is_text_browser(argv0: str) -> bool:
    """True when `argv0` (a command name or path) names a terminal browser."""
    return os.path.basename(argv0) in TEXT_BROWSERS


def has_display(env: Mapping[str, str]) -> bool:
    """Whether a graphical session can show a browser: macOS, or an X11/Wayland display."""
    import sys

    return sys.platform == "darwin" or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _no_graphical_browser(why: str) -> BrowserError:
    return BrowserError(
        f"no graphical browser to open the sign-in link ({why}); awsv never starts a text-mode browser",
        hint=NO_BROWSER_HINT,
    )


class OneShotRedirect:
    """A loopback HTTP server answering one GET of a random path with a 302 to `target`.

    The browser is given `url` instead of the sign-in link, so the link never
    appears in a process's argv. Only the first fetch by a process of the
    same user (checked on Linux) gets the redirect; then the path is dead.
    """

    def __init__(self, target: str) -> None:
        self._target = target
        self._path = "/" + secrets.token_urlsafe(32)
        self.served = threading.Event()
        self.refused = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # the path is a secret of sorts: never logged

            def do_GET(self) -> None:
                owner._answer(self)

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{self._path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path_ok = hmac.compare_digest(handler.path.encode(), self._path.encode())
        if not path_ok or self.served.is_set():
            self._reply(handler, 404)
            return
        uid = peer_uid(handler.client_address[1], self.port)
        if uid is not None and uid != os.getuid():
            self.refused += 1
            self._reply(handler, 403)
            return
        self._reply(handler, 302, location=self._target)
        self.served.set()

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, location: str | None = None) -> None:
        handler.send_response(status)
        if location:
            handler.send_header("Location", location)
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Referrer-Policy", "no-referrer")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        handler.wfile.flush()


def peer_uid(client_port: int, server_port: int) -> int | None:
    """The uid owning the loopback TCP socket from `client_port` to `server_port`, from /proc.

    None where /proc/net/tcp is not available (macOS) or the socket is gone.
    """
    local, remote = f":{client_port:04X}", f":{server_port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 7 and fields[1].endswith(local) and fields[2].endswith(remote):
                return int(fields[7])
    return None


def browser_commands(env: Mapping[str, str]) -> list[list[str]] | None:
    """`$BROWSER` as a list of commands (None when unset); each is tried in turn.

    Entries naming a terminal browser are left out; when nothing is left the
    result is [] (set, but nothing usable), not None (unset).
    """
    raw = env.get("BROWSER")
    if not raw:
        return None
    commands = []
    for entry in raw.split(os.pathsep):
        try:
            argv = shlex.split(entry)
        except ValueError:
            raise UsageError("$BROWSER cannot be parsed (unbalanced quotes)") from None
        if argv and not is_text_browser(argv[0]):
            commands.append(argv)
    return commands


def _argv(template: list[str], url: str) -> list[str]:
    if any("%s" in arg for arg in template):
        return [arg.replace("%s", url) for arg in template]
    return [*template, url]


def open_in_browser(
    ctx: Context, url: str, *, timeout: float, poll: float = 0.05, commands: list[list[str]] | None = None
) -> None:
    """Open `url` in the user's browser through a one-shot loopback redirect.

    `commands` (argv templates, `%s` for the address) replaces $BROWSER, for
    `login --isolate` (awsv.isolate).

    Returns once the browser has fetched the redirect; raises BrowserError when
    every $BROWSER command fails, no browser is found, or nothing fetches the
    address within `timeout` seconds. No message contains `url`.
    """
    pending = commands if commands is not None else browser_commands(ctx.env)
    if pending == []:
        raise _no_graphical_browser("$BROWSER names only text-mode browsers")
    if (pending is None or commands is not None) and not has_display(ctx.env):
        raise _no_graphical_browser("no display: neither DISPLAY nor WAYLAND_DISPLAY is set")
    with OneShotRedirect(url) as redirect:
        if pending is None:
            _webbrowser(redirect.url)
            pending = []
        deadline = time.monotonic() + timeout
        proc: subprocess.Popen[bytes] | None = None
        failure = ""
        try:
            while not redirect.served.wait(poll):
                if proc is not None and proc.poll() not in (None, 0):
                    failure, proc = f"exited with status {proc.returncode}", None
                if proc is None and pending:
                    proc, failure = _start(ctx, _argv(pending.pop(0), redirect.url), failure)
                if proc is None and not pending and failure:
                    raise BrowserError(
                        f"the browser command from $BROWSER {failure}",
                        hint="fix $BROWSER, or run `awsv login --stdout PROFILE` and open the link yourself",
                    )
                if time.monotonic() >= deadline:
                    raise BrowserError(
                        f"no browser fetched the sign-in link within {timeout:g}s",
                        hint=f"{TIMEOUT_VAR} sets the wait; or use --stdout and open the link yourself",
                    )
        except BaseException:
            _stop_group(proc)  # timeout or Ctrl-C: a launcher still running goes, with its children
            raise


def _start(ctx: Context, argv: list[str], failure: str) -> tuple[subprocess.Popen[bytes] | None, str]:
    """Start one browser command; its stdout goes to our stderr (stdout is a protocol)."""
    try:
        out: Any = ctx.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        out = subprocess.DEVNULL
    try:
        # Its own process group: Ctrl-C at our prompt is ours, and `_stop_group` can end it whole.
        return subprocess.Popen(argv, env=child_env(ctx.env), stdout=out, process_group=0), failure  # noqa: S603 - a browser command, no shell
    except FileNotFoundError:
        return None, f"was not found ({argv[0]!r})"
    except OSError as exc:
        return None, f"cannot be run ({argv[0]!r}: {exc.strerror})"


def _stop_group(proc: subprocess.Popen[bytes] | None) -> None:
    """Kill a browser command's process group if the command itself is still running."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def _webbrowser(address: str) -> None:
    """Python's webbrowser, with the vault passphrase variables out of os.environ meanwhile."""
    import webbrowser

    with _without(os.environ, SECRET_ENV_VARS):
        try:
            browser = webbrowser.get()
        except webbrowser.Error:
            browser = None
        # webbrowser falls back to console browsers (www-browser, lynx…) when it finds no other.
        name = str(getattr(browser, "name", "") or "")
        if browser is None or is_text_browser(name.split()[0] if name.split() else name):
            raise _no_graphical_browser("none found")
        opened = browser.open(address)
    if not opened:
        raise BrowserError("the browser could not open the sign-in link", hint=NO_BROWSER_HINT)


@contextlib.contextmanager
def _without(environ: Any, names: tuple[str, ...]) -> Iterator[None]:
    saved = {name: environ.pop(name) for name in names if name in environ}
    try:
        yield
    finally:
        environ.update(saved)
