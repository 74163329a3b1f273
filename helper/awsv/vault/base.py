"""The one small interface every vault backend implements.

Items are JSON-serialisable dicts under a name. Names follow `awsv.vault.items`
(`key/PROFILE` for long-term keys, `session/ID` for cached sessions); backends
treat both as opaque.
"""

from __future__ import annotations

from typing import Any, Protocol

Item = dict[str, Any]


class Vault(Protocol):
    """get / set / delete / list; every method may raise `awsv.errors.VaultError`."""

    #: A short name shown to users ("file", "keyring").
    backend_name: str

    def get(self, name: str) -> Item | None:
        """The item stored under `name`, or None when there is none."""
        ...

    def set(self, name: str, item: Item) -> None:
        """Store `item` under `name`, replacing any previous one, durably."""
        ...

    def delete(self, name: str) -> bool:
        """Remove `name`; True if it existed."""
        ...

    def list(self) -> list[str]:
        """All item names, sorted."""
        ...
