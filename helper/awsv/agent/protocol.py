"""What client and agent agree on: framing, where the socket lives, which vault is meant.

Framing: each message is a 4-byte big-endian length followed by that many
bytes of UTF-8 JSON (one object). A request is `{"op": NAME, ...}`; a reply
is `{"ok": true, ...}` or `{"ok": false, "error": {"type", "message", "hint"}}`
where `type` names a class of `awsv.errors`. One connection carries any
number of request/reply pairs, strictly in turn.

Operations: `hello` (status, does not count as activity), `status` (same),
`get` {name}, `set` {name, item}, `delete` {name}, `list`, `items` {prefix}
(every item under a prefix, in one answer), `delete_many` {names} (one
durable write), `deliver` (see `awsv.agent.deliver`), `lock` (forget the key
and exit).

The socket is `$XDG_RUNTIME_DIR/awsv/agent.sock` when XDG_RUNTIME_DIR is a
directory of this user's, else `${TMPDIR:-/tmp}/awsv-<uid>/agent.sock`; the
directory is 0700 and checked before use. One agent serves one vault, named by
`vault_identity`; a client whose vault differs ignores the agent.

Imported on every command, so it imports only json, os, struct and awsv's
own small modules.
"""

from __future__ import annotations

import json
import os
import stat
import struct

from awsv.errors import UsageError, VaultError
from awsv.secret_env import AWS_SECRET_VARS, SECRET_ENV_VARS

TYPE_CHECKING = False  # typing costs milliseconds on the hot path; annotations are strings anyway
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: 2 added `items` and `delete_many` (clients fall back to item by item with a 1).
PROTOCOL_VERSION = 2
SOCKET_NAME = "agent.sock"
MAX_FRAME = 16 * 1024 * 1024
_LEN = struct.Struct(">I")

#: AWSV_AGENT values. auto: start the agent after a typed or fetched
#: passphrase; on: also after AWSV_FILE_PASSPHRASE and for the keyring;
#: off: never start or use one.
MODES = ("auto", "on", "off")
MODE_VAR = "AWSV_AGENT"
IDLE_VAR = "AWSV_AGENT_IDLE"
MAX_VAR = "AWSV_AGENT_MAX"
DEFAULT_IDLE = 15 * 60
DEFAULT_MAX = 8 * 3600


class AgentError(VaultError):
    """The agent could not be reached, answered garbage, or stopped mid-request."""


class AgentRefused(AgentError):
    """The agent refused the connection (another user's process)."""


class ProtocolError(Exception):
    """A malformed frame; turned into AgentError by the caller, which knows the context."""


def agent_mode(env: Mapping[str, str]) -> str:
    """AWSV_AGENT as one of MODES (default auto); anything else is a UsageError."""
    raw = (env.get(MODE_VAR) or "auto").strip().lower()
    aliases = {"1": "on", "yes": "on", "true": "on", "0": "off", "no": "off", "false": "off"}
    mode = aliases.get(raw, raw)
    if mode not in MODES:
        raise UsageError(f"{MODE_VAR} = {raw!r} is not one of {', '.join(MODES)}")
    return mode


# -- where -------------------------------------------------------------------


def _usable_runtime_dir(path: str) -> bool:
    """XDG_RUNTIME_DIR counts only if it is an absolute directory we own."""
    if not os.path.isabs(path):
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()


def socket_dir(env: Mapping[str, str]) -> str:
    """The agent's directory (see the module docstring); not created here."""
    runtime = env.get("XDG_RUNTIME_DIR") or ""
    if runtime and _usable_runtime_dir(runtime):
        return os.path.join(runtime, "awsv")
    # A per-user directory under the temp dir, made 0700 and checked for its owner before use.
    tmp = env.get("TMPDIR") or "/tmp"  # noqa: S108
    return os.path.join(tmp if os.path.isabs(tmp) else "/tmp", f"awsv-{os.geteuid()}")  # noqa: S108


def socket_path(env: Mapping[str, str]) -> str:
    return os.path.join(socket_dir(env), SOCKET_NAME)


def check_private_dir(path: str) -> None:
    """Raise AgentError unless `path` is a real directory of ours with mode 0700 or stricter.

    In a shared temp dir someone else could have created it first, to listen
    in our place; we refuse rather than trust it.
    """
    from awsv.private import KIND, OWNER, not_private

    try:
        st = os.lstat(path)
    except OSError as exc:
        raise AgentError(f"cannot use the agent directory {path}: {exc.strerror}") from None
    problem = not_private(st, is_dir=True)
    if problem is not None:
        kind, what = problem
        hint = {
            KIND: f"remove {path}; awsv recreates it",
            OWNER: f"remove {path} (as its owner or root); awsv recreates it",
        }.get(kind, f"chmod 700 {path}")
        raise AgentError(f"the agent directory {path} {what}", hint=hint)


def ensure_socket_dir(env: Mapping[str, str]) -> str:
    """Create the agent directory 0700 if needed and check it; returns its path."""
    path = socket_dir(env)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise AgentError(f"cannot create the agent directory {path}: {exc.strerror}") from None
    check_private_dir(path)
    return path


def vault_identity(backend: str, env: Mapping[str, str]) -> str:
    """A string naming the vault a command means, compared with the agent's own.

    The backend's name, the values of its `identity_env` variables (keyring: the
    service, the keyring backend and D-Bus session asked for) and the data
    directory (the file vault's home; the keyring's index lock).
    """
    from awsv.paths import data_dir
    from awsv.vault import get_backend

    spec = get_backend(backend)
    directory = os.path.abspath(data_dir(env))
    if not spec.identity_env:
        return f"{spec.name}:{directory}"
    values = [env.get(var) or default for var, default in spec.identity_env]
    return f"{spec.name}:" + "|".join((*values, directory))


# -- framing -----------------------------------------------------------------


def encode(message: Mapping[str, Any]) -> bytes:
    """One frame holding `message` as compact JSON."""
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise ProtocolError("message too large")
    return _LEN.pack(len(data)) + data


def send(sock: Any, message: Mapping[str, Any]) -> None:
    sock.sendall(encode(message))


def _recv_exact(sock: Any, size: int) -> bytes | None:
    """Exactly `size` bytes, or None on EOF before the first byte; EOF later is an error."""
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            if not buf:
                return None
            raise ProtocolError("connection closed in the middle of a message")
        buf += chunk
    return bytes(buf)


def recv(sock: Any) -> dict[str, Any] | None:
    """The next message, or None when the peer closed the connection cleanly."""
    head = _recv_exact(sock, _LEN.size)
    if head is None:
        return None
    (length,) = _LEN.unpack(head)
    if length > MAX_FRAME:
        raise ProtocolError("message too large")
    body = _recv_exact(sock, length) if length else b""
    if body is None:
        raise ProtocolError("connection closed in the middle of a message")
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("a message is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message is not a JSON object")
    return message


def error_reply(exc_type: str, message: str, hint: str | None = None) -> dict[str, Any]:
    return {"ok": False, "error": {"type": exc_type, "message": message, "hint": hint}}


#: What the client may send of its environment: enough to find the config,
#: the vault and the settings, never a secret.
_SENT_PREFIXES = ("AWS", "XDG_")
_SENT_NAMES = ("HOME",)
_NEVER_SENT = (*AWS_SECRET_VARS, *SECRET_ENV_VARS)


def request_env(env: Mapping[str, str]) -> dict[str, str]:
    """The part of the client's environment sent with a deliver request."""
    return {k: v for k, v in env.items() if (k.startswith(_SENT_PREFIXES) or k in _SENT_NAMES) and k not in _NEVER_SENT}
