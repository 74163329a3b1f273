"""The agent process: holds one opened vault in memory and answers over its socket.

It keeps the backend opened by whoever started it — `FileVault(key=…)` for
the file vault, `KeyringVault` for the keyring — and serves get / set /
delete / list through it (see `protocol`). The key itself is never sent to
anyone.

It refuses every connection whose peer (SO_PEERCRED) runs as another uid,
before reading a byte. It forgets the key by exiting:

* after `idle` seconds without a vault request (hello/status do not count),
* after `max_life` seconds in any case,
* on a `lock` request, on SIGTERM,
* when its socket file is removed or replaced (a newer agent took over, or
  the user deleted the directory),
* when its key no longer opens the vault (the vault was replaced).

An in-flight request finishes before the agent exits on a timeout. On the
way out it removes its socket, unless the path now belongs to another agent.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from awsv.agent import protocol
from awsv.agent.client import peer_uid
from awsv.config import ConfigCache
from awsv.errors import AwsvError, WrongPassphrase
from awsv.vault.base import Vault

#: Seconds between checks of the timers and of the socket file.
TICK = 0.2
#: Seconds the agent waits, on its way out, for answers still being sent.
DRAIN_TIMEOUT = 2.0
#: Ops that count as activity and need the vault lock.
VAULT_OPS = ("get", "set", "delete", "list", "items", "delete_many")

# Bounds on what clients can make the agent hold (README, "Limits"). Each
# connection is one thread; under mlockall every thread stack is locked in RAM
# in full, so stacks are small and their number is capped.
#: Connections served at once; one more is told "busy" and closed at once.
MAX_CONNECTIONS = 32
#: Stack of each connection thread (Python's default is 8 MiB, all of it locked).
THREAD_STACK = 512 * 1024
#: A new connection must send its first request within this many seconds.
FIRST_REQUEST_TIMEOUT = 5.0
#: Seconds an open connection may stay silent between requests (a command
#: holds its connection while it runs a credential_process or asks for MFA).
IDLE_CONNECTION_TIMEOUT = 600.0
#: Once a request has started, all of it must arrive within this many seconds.
FRAME_TIMEOUT = 5.0
#: Seconds a reply may take to leave (a client that never reads cannot hold a thread).
SEND_TIMEOUT = 30.0
#: The largest request the agent reads (vault items are a few KiB).
MAX_REQUEST = 1024 * 1024


class _Deadlines:
    """A socket's `recv` under the request deadlines above, for `protocol.recv`.

    The wait for a request's first byte is bounded by `wait` seconds; once a
    byte has arrived, the rest of the request must come within FRAME_TIMEOUT in
    total (a client trickling a byte at a time is cut off too), and no request
    may exceed MAX_REQUEST bytes.
    """

    def __init__(self, conn: socket.socket, wait: float) -> None:
        self._conn = conn
        self._deadline = time.monotonic() + wait
        self._started = False
        self._received = 0

    def recv(self, size: int) -> bytes:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request deadline passed")
        self._conn.settimeout(left)
        chunk = self._conn.recv(size)
        if chunk and not self._started:
            self._started = True
            self._deadline = time.monotonic() + FRAME_TIMEOUT
        self._received += len(chunk)
        if self._received > MAX_REQUEST + 4:
            raise protocol.ProtocolError("request too large")
        return chunk


def bind_socket(path: str) -> tuple[socket.socket, tuple[int, int]]:
    """Listen on `path` (mode 0600), atomically replacing whatever was there.

    Binds under a temporary name in the same directory and renames it into
    place, so a client never sees a half-made socket and an older agent
    notices it was replaced. Returns the socket and the file's (dev, inode).
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(tmp)
    finally:
        os.umask(old_umask)
    os.chmod(tmp, 0o600)
    listener.listen(32)
    os.replace(tmp, path)
    st = os.stat(path)
    return listener, (st.st_dev, st.st_ino)


class Agent:
    """One vault served over one listening socket (see module docstring)."""

    def __init__(
        self,
        vault: Vault,
        *,
        backend: str,
        identity: str,
        display: str,
        idle: float,
        max_life: float,
        socket_path: str,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.vault = vault
        self.backend = backend
        self.identity = identity
        self.display = display
        self.idle = float(idle)
        self.max_life = float(max_life)
        self.socket_path = socket_path
        self.hardening: dict[str, bool] = {}
        self._clock = clock
        self._wall = wall
        self._started = clock()
        self._started_wall = wall()
        self._last_activity = self._started
        self._vault_lock = threading.Lock()
        self._stop = threading.Event()
        self._inflight = 0
        self._replied = threading.Condition()
        self._socket_id: tuple[int, int] | None = None
        self._connections = 0
        self._connections_lock = threading.Lock()
        self.stop_reason = ""
        #: The config parse, reused across deliver requests while the file is unchanged.
        self.config_cache = ConfigCache()

    # -- state --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What `awsv unlock --status` shows; times are epoch seconds."""
        now, now_wall = self._clock(), self._wall()
        idle_left = self.idle - (now - self._last_activity)
        max_left = self.max_life - (now - self._started)
        return {
            "version": protocol.PROTOCOL_VERSION,
            "pid": os.getpid(),
            "uid": os.geteuid(),
            "backend": self.backend,
            "identity": self.identity,
            "vault": self.display,
            "socket": self.socket_path,
            "started": self._started_wall,
            "idle_timeout": self.idle,
            "max_lifetime": self.max_life,
            "idle_expires": now_wall + idle_left,
            "max_expires": now_wall + max_left,
            "expires": now_wall + min(idle_left, max_left),
            **self.hardening,
        }

    def expired(self) -> str | None:
        """Why the agent must stop now, or None."""
        now = self._clock()
        if now - self._started >= self.max_life:
            return "maximum lifetime reached"
        if now - self._last_activity >= self.idle:
            return "idle timeout"
        return None

    def stop(self, reason: str) -> None:
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()
            self._wake()

    def _wake(self) -> None:
        """Knock on our own socket, so the accept loop sees the stop now rather than a TICK later.

        `awsv lock` waits for this process to be gone; an accept sleeping out
        its timeout would add up to TICK to every lock.
        """
        if self._socket_id is None or not self._socket_is_ours():
            return
        knock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            knock.setblocking(False)
            knock.connect(self.socket_path)
        except OSError:
            pass  # a full backlog or a vanished socket: the loop wakes on its own within TICK
        finally:
            knock.close()

    # -- requests -----------------------------------------------------------

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """The reply to one request; never raises."""
        op = request.get("op")
        if op in ("hello", "status"):
            return {"ok": True, **self.status()}
        if op == "lock":
            reply = {"ok": True, **self.status()}
            self.stop("locked")
            self._forget_socket()
            return reply
        if op not in VAULT_OPS and op != "deliver":
            return protocol.error_reply("AgentError", f"the awsv agent does not know {op!r}")
        with self._vault_lock:
            if self._stop.is_set():
                return protocol.error_reply("AgentError", "the awsv agent is stopping", "run the command again")
            self._last_activity = self._clock()
            try:
                if op == "deliver":
                    from awsv.agent.deliver import deliver

                    return deliver(self.vault, self.identity, request, configs=self.config_cache)
                return self._vault_op(op, request)
            except WrongPassphrase as exc:
                # The vault was replaced under us: a key that opens nothing is useless.
                self.stop("the key no longer opens the vault")
                return protocol.error_reply(type(exc).__name__, exc.message, exc.hint)
            except AwsvError as exc:
                return protocol.error_reply(type(exc).__name__, exc.message, exc.hint)
            except Exception as exc:  # noqa: BLE001 - a backend bug must become one error line for the client, not kill the agent
                return protocol.error_reply(
                    "VaultError", f"the awsv agent failed to {op} an item ({type(exc).__name__})"
                )
            finally:
                self._last_activity = self._clock()

    def _vault_op(self, op: str, request: dict[str, Any]) -> dict[str, Any]:
        if op == "list":
            return {"ok": True, "names": self.vault.list()}
        if op == "items":
            prefix = request.get("prefix", "")
            if not isinstance(prefix, str):
                return protocol.error_reply("VaultError", "an items request with a malformed prefix")
            return {"ok": True, "items": self.vault.items(prefix)}
        if op == "delete_many":
            names = request.get("names")
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                return protocol.error_reply("VaultError", "a delete_many request without item names")
            return {"ok": True, "deleted": self.vault.delete_many(names)}
        name = request.get("name")
        if not isinstance(name, str) or not name:
            return protocol.error_reply("VaultError", "a vault request without an item name")
        if op == "get":
            return {"ok": True, "item": self.vault.get(name)}
        if op == "delete":
            return {"ok": True, "existed": self.vault.delete(name)}
        item = request.get("item")
        if not isinstance(item, dict):
            return protocol.error_reply("VaultError", "vault items must be JSON objects")
        self.vault.set(name, item)
        return {"ok": True}

    # -- serving ------------------------------------------------------------

    def serve(self, listener: socket.socket, socket_id: tuple[int, int]) -> str:
        """Accept connections until a reason to stop; returns that reason."""
        self._socket_id = socket_id
        threading.stack_size(THREAD_STACK)
        signal.signal(signal.SIGTERM, lambda *_: self.stop("SIGTERM"))
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        listener.settimeout(TICK)
        try:
            while not self._stop.is_set():
                reason = self.expired()
                if reason is None and not self._socket_is_ours():
                    reason = "socket removed or replaced"
                    self._socket_id = None
                if reason is not None:
                    with self._vault_lock:  # let a request in flight finish
                        self.stop(reason)
                    break
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    continue
                self._dispatch(conn)
        finally:
            self._forget_socket()
            listener.close()
            with self._replied:  # let the last answers (the `lock` reply) leave first
                self._replied.wait_for(lambda: self._inflight == 0, timeout=DRAIN_TIMEOUT)
        return self.stop_reason

    def _dispatch(self, conn: socket.socket) -> None:
        """Serve `conn` on a thread of its own, or tell it "busy" when MAX_CONNECTIONS are open."""
        with self._connections_lock:
            busy = self._connections >= MAX_CONNECTIONS
            if not busy:
                self._connections += 1
        if busy:
            try:
                conn.setblocking(False)  # a fresh socket's buffer takes this small frame at once
                protocol.send(
                    conn,
                    protocol.error_reply(
                        "AgentError",
                        f"the awsv agent is busy ({MAX_CONNECTIONS} connections open)",
                        "run the command again",
                    ),
                )
            except OSError:
                pass
            conn.close()
            return
        try:
            threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()
        except RuntimeError:  # no thread to be had: drop this one, keep serving
            self._release()
            conn.close()

    def _release(self) -> None:
        with self._connections_lock:
            self._connections -= 1

    def _socket_is_ours(self) -> bool:
        try:
            st = os.stat(self.socket_path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._socket_id

    def _forget_socket(self) -> None:
        """Remove our socket file (if it is still ours), so no client finds a dying agent."""
        if self._socket_id is not None and self._socket_is_ours():
            try:
                os.unlink(self.socket_path)
            except OSError:
                pass
        self._socket_id = None

    @staticmethod
    def _refuse(conn: socket.socket, uid: int) -> None:
        """Tell another uid no, without reading its request.

        What it already sent is drained (briefly, and discarded) after our
        answer, because closing a Unix socket with unread input resets the
        connection and the peer might never see why.
        """
        conn.settimeout(1.0)
        protocol.send(
            conn,
            protocol.error_reply(
                "AgentRefused", f"the awsv agent of uid {os.geteuid()} refuses connections from uid {uid}"
            ),
        )
        conn.shutdown(socket.SHUT_WR)
        drained = 0
        deadline = time.monotonic() + 1.0
        while drained < 1 << 16:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            conn.settimeout(left)
            chunk = conn.recv(4096)
            if not chunk:
                break
            drained += len(chunk)

    def _serve_connection(self, conn: socket.socket) -> None:
        try:
            uid = peer_uid(conn)
            if uid != os.geteuid():
                self._refuse(conn, uid)
                return
            wait = FIRST_REQUEST_TIMEOUT
            while not self._stop.is_set():
                request = protocol.recv(_Deadlines(conn, wait))
                wait = IDLE_CONNECTION_TIMEOUT
                if request is None:
                    return
                conn.settimeout(SEND_TIMEOUT)
                with self._replied:
                    self._inflight += 1
                try:
                    protocol.send(conn, self.handle(request))
                finally:
                    with self._replied:
                        self._inflight -= 1
                        self._replied.notify_all()
        except (OSError, protocol.ProtocolError):
            return  # the client went away, stayed silent or spoke garbage: drop it, keep serving others
        finally:
            conn.close()
            self._release()
