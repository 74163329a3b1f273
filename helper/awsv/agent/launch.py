"""Starting the agent, and opening the vault without one (then starting one).

`start_agent` runs `python -m awsv.agent` detached (new session, standard
streams not shared with the caller, cwd /) with the caller's environment
minus every variable that reaches the vault key or holds AWS credentials. The
key goes down a pipe as the process's stdin (`handover`), never through
argv or the environment, and the call returns once the agent is listening.

`open_vault_directly` is what a command does when no agent serves its vault:
open the backend as before, and — after the first operation that needed the
passphrase — hand the derived key to a new agent, so the next command asks
nothing. Whether that happens depends on AWSV_AGENT:

* `auto` (default): after a passphrase typed at the prompt or printed by
  AWSV_PASSPHRASE_COMMAND; not after AWSV_FILE_PASSPHRASE (scripts and CI
  that put the passphrase in the environment get no process left behind),
  and not for the keyring (`awsv unlock` starts one there);
* `on`: after any passphrase source, and for the keyring too;
* `off`: never; no agent is used either.

Timeouts: AWSV_AGENT_IDLE (default 15m) and AWSV_AGENT_MAX (default 8h),
durations like `900`, `15m`, `8h`, `1h30m`.
"""

from __future__ import annotations

import builtins
import json
import os
import struct
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from awsv.agent import protocol
from awsv.agent.protocol import AgentError
from awsv.errors import UsageError
from awsv.secret_env import AWS_CREDENTIAL_VARS, SECRET_ENV_VARS
from awsv.vault.base import Item, Vault

#: Seconds to wait for a new agent to open the vault and listen.
START_TIMEOUT = 30.0
_LEN = struct.Struct(">I")

#: Never passed to the agent: what unlocks the vault, and AWS credentials it has no use for.
_WITHHELD = (*SECRET_ENV_VARS, *AWS_CREDENTIAL_VARS)

Warn = Callable[[str], None]


@dataclass(frozen=True)
class AgentSettings:
    mode: str
    idle: int
    max_life: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AgentSettings:
        """AWSV_AGENT, AWSV_AGENT_IDLE, AWSV_AGENT_MAX; a bad value is a UsageError."""
        from awsv.durations import parse_duration  # the one duration syntax of awsv

        def seconds(var: str, default: int) -> int:
            raw = env.get(var)
            if not raw:
                return default
            value = parse_duration(raw, var)
            if value < 1:
                raise UsageError(f"{var} = {raw!r} must be at least one second")
            return value

        return cls(
            mode=protocol.agent_mode(env),
            idle=seconds(protocol.IDLE_VAR, protocol.DEFAULT_IDLE),
            max_life=seconds(protocol.MAX_VAR, protocol.DEFAULT_MAX),
        )


def agent_env(env: Mapping[str, str]) -> dict[str, str]:
    """The agent's environment: `env` minus `_WITHHELD`, with awsv importable."""
    out = {k: v for k, v in env.items() if k not in _WITHHELD}
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parts = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p]
    out["PYTHONPATH"] = os.pathsep.join([here, *[p for p in parts if p != here]])
    return out


def _frame(data: bytes) -> bytes:
    return _LEN.pack(len(data)) + data


def handover(setup: Mapping[str, Any], key: bytes | None) -> bytes:
    """The bytes written to the agent's stdin: a JSON frame, then the raw key frame."""
    return _frame(json.dumps(dict(setup)).encode("utf-8")) + _frame(key or b"")


def parse_handover(data: bytes) -> tuple[dict[str, Any], bytes | None]:
    """Inverse of `handover`; raises AgentError on anything malformed."""
    try:
        (n,) = _LEN.unpack_from(data, 0)
        setup = json.loads(data[4 : 4 + n].decode("utf-8"))
        (k,) = _LEN.unpack_from(data, 4 + n)
        key = data[8 + n : 8 + n + k]
        if len(key) != k or len(data) != 8 + n + k or not isinstance(setup, dict):
            raise ValueError("length mismatch")
    except (struct.error, ValueError, UnicodeDecodeError):
        raise AgentError("the awsv agent received a malformed handover") from None
    return setup, (key or None)


def describe_vault(backend: str, env: Mapping[str, str]) -> str:
    """How status messages name the vault."""
    from awsv.vault import backend_module

    return backend_module(backend).describe(env)


def start_agent(
    env: Mapping[str, str], *, backend: str, key: bytes | None, settings: AgentSettings | None = None
) -> dict[str, Any]:
    """Start an agent serving `backend`'s vault (file: with `key`); returns {"pid": …}.

    Replaces any agent already listening (it notices and exits). Raises
    AgentError when the agent cannot start, with its reason.
    """
    import subprocess

    settings = settings or AgentSettings.from_env(env)
    if settings.mode == "off":
        raise UsageError(
            "the awsv agent is disabled (AWSV_AGENT=off)", hint="unset AWSV_AGENT, or set it to auto or on"
        )
    directory = protocol.ensure_socket_dir(env)
    setup: dict[str, Any] = {
        "backend": backend,
        "identity": protocol.vault_identity(backend, env),
        "display": describe_vault(backend, env),
        "idle": settings.idle,
        "max_life": settings.max_life,
        "socket": os.path.join(directory, protocol.SOCKET_NAME),
    }
    from awsv.vault import backend_module

    setup.update(backend_module(backend).agent_setup(env))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "awsv.agent"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
            cwd="/",
            env=agent_env(env),
        )
    except OSError as exc:
        raise AgentError(f"cannot start the awsv agent: {exc.strerror}") from None
    try:
        out, _ = proc.communicate(handover(setup, key), timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AgentError(f"the awsv agent did not start within {START_TIMEOUT:g}s") from None
    try:
        reply = json.loads(out.decode("utf-8").splitlines()[0])
    except (UnicodeDecodeError, ValueError, IndexError):
        reply = None
    if not isinstance(reply, dict):
        raise AgentError(f"the awsv agent failed to start (exit status {proc.returncode})")
    if not reply.get("ok"):
        raise AgentError(
            f"the awsv agent could not start: {reply.get('message') or 'unknown reason'}", hint=reply.get("hint")
        )
    return {"pid": int(reply["pid"])}


def passphrase_source(env: Mapping[str, str]) -> str:
    """Which source `awsv.passphrase.make_provider` will use: command, env or prompt."""
    from awsv.passphrase import COMMAND_VARS, ENV_VARS

    if any(env.get(v) for v in COMMAND_VARS):
        return "command"
    if any(env.get(v) for v in ENV_VARS):
        return "env"
    return "prompt"


class _KeyHandoffVault:
    """A vault of a holds_key backend (the file) that hands its key to a new agent after
    the first operation that asked for the passphrase."""

    def __init__(
        self, inner: Any, backend: str, env: Mapping[str, str], warn: Warn, settings: AgentSettings, asked: list[str]
    ) -> None:
        self._inner = inner
        self._backend = backend
        self._env = env
        self._warn = warn
        self._settings = settings
        self._asked = asked
        self._done = False
        self.backend_name = inner.backend_name

    def __repr__(self) -> str:
        return repr(self._inner)

    def __getattr__(self, name: str) -> Any:  # path, exists(), unlock() of the FileVault
        return getattr(self._inner, name)

    def _after(self) -> None:
        if self._done or not self._asked:
            return
        self._done = True
        if self._settings.mode == "auto" and self._asked[0] == "env":
            return
        try:
            key = self._inner.unlock()
            start_agent(self._env, backend=self._backend, key=key.to_bytes(), settings=self._settings)
        except AgentError as exc:
            self._warn(f"{exc.message}; the passphrase will be asked again next time")

    # Only after an op that succeeded: a failed unlock must not start anything.

    def get(self, name: str) -> Item | None:
        item: Item | None = self._inner.get(name)
        self._after()
        return item

    def set(self, name: str, item: Item) -> None:
        self._inner.set(name, item)
        self._after()

    def delete(self, name: str) -> bool:
        existed: bool = self._inner.delete(name)
        self._after()
        return existed

    def list(self) -> list[str]:
        names: list[str] = self._inner.list()
        self._after()
        return names

    def items(self, prefix: str = "") -> dict[str, Item]:
        found: dict[str, Item] = self._inner.items(prefix)
        self._after()
        return found

    def delete_many(self, names: Collection[str]) -> builtins.list[str]:
        gone: builtins.list[str] = self._inner.delete_many(names)
        self._after()
        return gone


def open_vault_directly(backend: str, env: Mapping[str, str], *, warn: Warn) -> Vault:
    """The backend opened in this process, starting an agent as AWSV_AGENT says (module docstring)."""
    from awsv.passphrase import make_provider
    from awsv.vault import get_backend, open_vault

    settings = AgentSettings.from_env(env) if protocol.agent_mode(env) != "off" else None
    if not get_backend(backend).holds_key:
        vault = open_vault(backend, env=env)
        if settings is not None and settings.mode == "on":
            try:
                start_agent(env, backend=backend, key=None, settings=settings)
            except AgentError as exc:
                warn(exc.message)
        return vault
    base = make_provider(env)
    if settings is None:
        return open_vault(backend, env=env, passphrase_provider=base)
    asked: list[str] = []

    def provider(creating: bool) -> str:
        passphrase = base(creating)
        asked.append(passphrase_source(env))
        return passphrase

    inner = open_vault(backend, env=env, passphrase_provider=provider)
    return _KeyHandoffVault(inner, backend, env, warn, settings, asked)
