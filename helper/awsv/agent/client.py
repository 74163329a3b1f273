"""Talking to the agent: `AgentVault`, the Vault protocol over the agent's socket.

Every command that needs the vault tries `connect` first; when it returns an
`AgentVault`, all of awsv (sessions cache reads and writes, add, list) goes
through the agent without knowing it, and the command never imports
cryptography or keyring, nor asks for a passphrase.

`connect` returns None — and the caller opens the vault itself, asking for
the passphrase as usual — when there is no agent, when AWSV_AGENT=off, when
the agent serves another vault, or when it does not answer within
HELLO_TIMEOUT (a hung agent costs at most that, with a warning). An agent
that dies *during* a request gives one clear AgentError; the next command
finds no agent and falls back.

The client checks the agent too: the socket must belong to us, and the
process behind it (SO_PEERCRED) must run as our uid, so a socket planted in a
shared temp dir cannot feed us credentials.

Imports only socket, struct and awsv's protocol module: this is the hot path.
"""

from __future__ import annotations

import builtins
import os
import socket
import stat
import struct

from awsv import errors
from awsv.agent import protocol
from awsv.agent.protocol import AgentError, AgentRefused, ProtocolError

TYPE_CHECKING = False  # typing costs milliseconds on the hot path; annotations are strings anyway
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping
    from typing import Any

    Warn = Callable[[str], None]

#: Seconds to connect and get the hello answer; past this the agent counts as gone.
HELLO_TIMEOUT = 2.0
#: Seconds to wait for any other answer (the agent may wait up to 10 s for the vault's file lock).
REQUEST_TIMEOUT = 20.0

_UCRED = struct.Struct("3i")  # pid, uid, gid
#: Names per `delete_many` request: one durable write each, and a request of a few dozen KiB.
DELETE_BATCH = 1000


_RESTART_HINT = "run the command again: it asks for the passphrase and starts a new agent"


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket (Linux SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    return int(_UCRED.unpack(raw)[1])


class Connection:
    """One connection to the agent; requests are strictly one at a time."""

    def __init__(self, sock: socket.socket, path: str) -> None:
        self.sock = sock
        self.path = path

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def request(self, message: dict[str, Any], *, timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        """Send `message`, return the agent's successful reply; raise its error as awsv's.

        Transport failures (timeout, agent killed) raise AgentError naming
        the operation; the connection is unusable afterwards.
        """
        op = message.get("op", "?")
        try:
            self.sock.settimeout(timeout)
            protocol.send(self.sock, message)
            reply = protocol.recv(self.sock)
        except TimeoutError:
            self.close()
            raise AgentError(
                f"the awsv agent did not answer within {timeout:g}s ({op})",
                hint="`awsv lock` stops it; " + _RESTART_HINT,
            ) from None
        except ProtocolError as exc:
            self.close()
            raise AgentError(f"the awsv agent sent a broken answer ({op}): {exc}", hint=_RESTART_HINT) from None
        except OSError as exc:
            self.close()
            raise AgentError(
                f"the connection to the awsv agent failed ({op}): {exc.strerror or type(exc).__name__}",
                hint=_RESTART_HINT,
            ) from None
        if reply is None:
            self.close()
            raise AgentError(f"the awsv agent stopped before answering ({op})", hint=_RESTART_HINT)
        if not reply.get("ok"):
            raise _error_from(reply.get("error"))
        return reply


def _error_from(raw: Any) -> errors.AwsvError:
    """The agent's error as the same awsv error class, message and hint."""
    if not isinstance(raw, dict):
        return AgentError("the awsv agent failed without saying why", hint=_RESTART_HINT)
    name = str(raw.get("type") or "")
    cls = getattr(errors, name, None) or {"AgentError": AgentError, "AgentRefused": AgentRefused}.get(name)
    if not (isinstance(cls, type) and issubclass(cls, errors.AwsvError)):
        cls = errors.VaultError
    hint = raw.get("hint")
    return cls(str(raw.get("message") or "the awsv agent failed"), hint=str(hint) if hint else None)


def open_connection(env: Mapping[str, str], *, timeout: float = HELLO_TIMEOUT) -> Connection | None:
    """A connection to this user's agent, or None when none is listening.

    Raises AgentError when something is there but is not trustworthy or does
    not answer: a socket owned by someone else, a peer of another uid, a
    connect that times out.
    """
    path = protocol.socket_path(env)
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.geteuid():
        raise AgentError(f"{path} is not an awsv agent socket of yours; ignoring it", hint=f"remove {path}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None  # a socket left by an agent that was killed: nobody listens
    except TimeoutError:
        sock.close()
        raise AgentError(f"the awsv agent at {path} did not answer within {timeout:g}s") from None
    except OSError as exc:
        sock.close()
        raise AgentError(f"cannot reach the awsv agent at {path}: {exc.strerror}") from None
    if peer_uid(sock) != os.geteuid():
        sock.close()
        raise AgentError(f"the process listening on {path} is not yours; ignoring it", hint=f"remove {path}")
    return Connection(sock, path)


def status(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The agent's status (see `server.Agent.status`), or None when no agent runs.

    Raises AgentError for a socket that cannot be trusted or an agent that hangs.
    """
    conn = open_connection(env)
    if conn is None:
        return None
    try:
        return conn.request({"op": "status"}, timeout=HELLO_TIMEOUT)
    finally:
        conn.close()


def lock(env: Mapping[str, str]) -> dict[str, Any] | None:
    """Tell the agent to forget its key and exit; its last status, or None if none ran."""
    conn = open_connection(env)
    if conn is None:
        return None
    try:
        return conn.request({"op": "lock"}, timeout=HELLO_TIMEOUT)
    finally:
        conn.close()


class AgentVault:
    """The Vault protocol answered by the agent (see module docstring)."""

    def __init__(self, conn: Connection, hello: Mapping[str, Any]) -> None:
        self._conn = conn
        self.backend_name = str(hello.get("backend") or "agent")
        self.agent_status = dict(hello)
        #: Protocol 2 added `items` and `delete_many`; an agent started by an older awsv lacks them.
        self._bulk = isinstance(hello.get("version"), int) and hello["version"] >= 2

    def __repr__(self) -> str:
        return f"AgentVault({self.agent_status.get('identity')!r})"

    def close(self) -> None:
        self._conn.close()

    def get(self, name: str) -> dict[str, Any] | None:
        item = self._conn.request({"op": "get", "name": name}).get("item")
        if item is not None and not isinstance(item, dict):
            raise AgentError("the awsv agent sent a malformed item", hint=_RESTART_HINT)
        return item

    def set(self, name: str, item: dict[str, Any]) -> None:
        self._conn.request({"op": "set", "name": name, "item": item})

    def delete(self, name: str) -> bool:
        return bool(self._conn.request({"op": "delete", "name": name}).get("existed"))

    def list(self) -> list[str]:
        names = self._conn.request({"op": "list"}).get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AgentError("the awsv agent sent a malformed list", hint=_RESTART_HINT)
        return names

    def items(self, prefix: str = "") -> dict[str, Any]:
        if not self._bulk:
            return _items_one_by_one(self, prefix)
        items = self._conn.request({"op": "items", "prefix": prefix}).get("items")
        if not isinstance(items, dict) or not all(isinstance(v, dict) for v in items.values()):
            raise AgentError("the awsv agent sent malformed items", hint=_RESTART_HINT)
        return items

    def delete_many(self, names: Collection[str]) -> builtins.list[str]:
        if not self._bulk:
            return sorted(n for n in set(names) if self.delete(n))
        wanted = sorted(set(names))
        gone: list[str] = []
        for start in range(0, len(wanted), DELETE_BATCH):  # requests stay far below the agent's size cap
            batch = wanted[start : start + DELETE_BATCH]
            deleted = self._conn.request({"op": "delete_many", "names": batch}).get("deleted")
            if not isinstance(deleted, list) or not all(isinstance(n, str) for n in deleted):
                raise AgentError("the awsv agent sent a malformed answer", hint=_RESTART_HINT)
            gone += deleted
        return gone


def _items_one_by_one(vault: AgentVault, prefix: str) -> dict[str, Any]:
    """`items` from an agent older than the bulk operations (protocol 1)."""
    found = {}
    for name in vault.list():
        if name.startswith(prefix) and (item := vault.get(name)) is not None:
            found[name] = item
    return found


def connect(env: Mapping[str, str], backend: str, *, warn: Warn | None = None) -> AgentVault | None:
    """An AgentVault for `backend`'s vault if this user's agent holds it, else None.

    Never raises for a missing, foreign, hung or dead agent: it warns (when
    something is wrong, not when there is simply no agent) and returns None,
    so the caller falls back to the passphrase.
    """
    if protocol.agent_mode(env) == "off":
        return None
    try:
        conn = open_connection(env)
        if conn is None:
            return None
        hello = conn.request({"op": "hello", "version": protocol.PROTOCOL_VERSION}, timeout=HELLO_TIMEOUT)
    except AgentError as exc:
        if warn is not None:
            warn(f"{exc.message}; opening the vault without the agent")
        return None
    if hello.get("identity") != protocol.vault_identity(backend, env):
        conn.close()
        return None  # the agent holds another vault (another backend or AWSV_FILE_DIR)
    return AgentVault(conn, hello)
