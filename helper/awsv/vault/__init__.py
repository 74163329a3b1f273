"""The vault: where long-term keys and cached sessions rest, always encrypted.

The registry of backends. Each backend is one module under `awsv.vault` that
provides the functions of `BackendModule` (open it, say what it is, check it
for `awsv doctor`, open it inside the agent); `REGISTRY` names it. Only that
table is read on the hot path (it is data, no import of the backend): a
backend module, and its heavy dependencies (cryptography, keyring), is
imported only when that backend is used. There is no implicit plugin
loading: in a secrets tool, code runs only when this table names it.

Adding a backend: write `awsv/vault/NAME.py` with the functions below, add a
`Backend` line here, and subclass `tests/support/vault_contract.py`'s
`VaultContract` in its test (see docs/extending.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from awsv.errors import UsageError
from awsv.vault.base import Vault

PassphraseProvider = Callable[[bool], str]


@dataclass(frozen=True)
class Backend:
    """One backend, as the registry and the hot path know it (no import of its module)."""

    name: str
    #: The module implementing `BackendModule`, imported only when the backend is used.
    module: str
    #: One line for --help and `awsv doctor`.
    summary: str
    #: Other names users may give (aws-vault's backend names).
    aliases: tuple[str, ...] = ()
    #: The agent is handed a key derived from a passphrase (the file backend); otherwise
    #: the agent opens the backend itself and nothing secret is handed over.
    holds_key: bool = False
    #: Environment variables (and their defaults) that, with the data directory, tell one
    #: vault of this backend from another: the agent serves a client only the vault it means.
    identity_env: tuple[tuple[str, str], ...] = ()


class BackendModule(Protocol):
    """What a backend's module provides (module-level functions)."""

    def open_backend(self, env: Mapping[str, str], passphrase_provider: PassphraseProvider | None) -> Vault:
        """The vault for `env`; asks for nothing until first use. Raises VaultError/UsageError."""
        ...

    def describe(self, env: Mapping[str, str]) -> str:
        """How status lines name this vault (a path, a keyring service)."""
        ...

    def doctor_checks(self, env: Mapping[str, str]) -> Iterator[tuple[str, str, str | None]]:
        """(status, message, fix) lines for `awsv doctor`; status is "pass", "warn" or "fail"."""
        ...

    def agent_setup(self, env: Mapping[str, str]) -> dict[str, Any]:
        """What the agent needs besides the key to open this vault (JSON values)."""
        ...

    def open_in_agent(self, setup: Mapping[str, Any], key: bytes | None) -> Vault:
        """Inside the agent: open and check the vault (`key` only for holds_key backends)."""
        ...

    def agent_key(self, env: Mapping[str, str], passphrase_provider: PassphraseProvider) -> bytes | None:
        """For `awsv unlock`: the key to hand the agent (holds_key), else None after checking
        that the backend works here."""
        ...


REGISTRY: tuple[Backend, ...] = (
    Backend("file", "awsv.vault.file", "an encrypted file (Argon2id + AES-256-GCM)", holds_key=True),
    Backend(
        "keyring",
        "awsv.vault.keyring_store",
        "the OS keyring (Secret Service, Keychain, ...)",
        aliases=("keychain", "secret-service", "wincred", "kwallet"),
        identity_env=(
            ("AWSV_KEYRING_SERVICE", "awsv"),
            ("PYTHON_KEYRING_BACKEND", ""),
            ("DBUS_SESSION_BUS_ADDRESS", ""),
        ),
    ),
)

BACKENDS: tuple[str, ...] = tuple(b.name for b in REGISTRY)
"""Backend names accepted by --backend, AWSV_BACKEND and the settings file."""


def find_backend(name: str) -> Backend | None:
    """The backend called `name` or one of its aliases (case-insensitive), else None."""
    wanted = name.strip().lower()
    for backend in REGISTRY:
        if wanted == backend.name or wanted in backend.aliases:
            return backend
    return None


def get_backend(name: str) -> Backend:
    """The backend called `name`; UsageError listing the choices for any other name."""
    backend = find_backend(name)
    if backend is None:
        raise UsageError(f"unknown backend {name!r}", hint=f"choose one of: {', '.join(BACKENDS)}")
    return backend


def backend_module(name: str) -> BackendModule:
    """The module implementing backend `name` (imported now)."""
    module = get_backend(name).module
    # __import__, not importlib.import_module: `python -X importtime` (which the hot-path
    # tests read) does not report the module importlib.import_module itself loads.
    __import__(module)
    return cast("BackendModule", sys.modules[module])


def open_vault(
    backend: str,
    *,
    env: Mapping[str, str] = os.environ,
    passphrase_provider: PassphraseProvider | None = None,
) -> Vault:
    """Return the vault for `backend` (a name in BACKENDS).

    `passphrase_provider(creating)` is called by a backend that derives its key
    from a passphrase, at most once per process, only when it needs the key;
    `creating` is True when the vault does not exist yet (so the user is asked twice).
    """
    return backend_module(backend).open_backend(env, passphrase_provider)
