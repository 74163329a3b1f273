"""The vault: where long-term keys and cached sessions rest, always encrypted.

`open_vault` picks a backend by name; backends import their heavy
dependencies (cryptography, keyring) only when they are opened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from awsv.errors import UsageError
from awsv.vault.base import Vault

BACKENDS = ("file", "keyring")


def open_vault(
    backend: str,
    *,
    env: Mapping[str, str] = os.environ,
    passphrase_provider: Callable[[bool], str] | None = None,
) -> Vault:
    """Return the vault for `backend` ("file" or "keyring").

    `passphrase_provider(creating)` is called by the file backend, at most
    once per process, only when it needs the key; `creating` is True when the
    vault does not exist yet (so the user is asked twice).
    """
    if backend == "file":
        from awsv.vault.file import FileVault

        if passphrase_provider is None:
            raise UsageError("the file backend needs a passphrase source")
        return FileVault.at_default_location(env=env, passphrase_provider=passphrase_provider)
    if backend == "keyring":
        from awsv.vault.keyring_store import KeyringVault

        return KeyringVault.open(env=env)
    raise UsageError(f"unknown backend {backend!r}", hint=f"choose one of: {', '.join(BACKENDS)}")
