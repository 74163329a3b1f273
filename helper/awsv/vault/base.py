"""The one small interface every vault backend implements.

Items are JSON-serialisable dicts under a name. Names follow `awsv.vault.items`
(`key/PROFILE` for long-term keys, `session/ID` for cached sessions); backends
treat both as opaque.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from typing import Any, Protocol

Item = dict[str, Any]


class Vault(Protocol):
    """get / set / delete / list, and their bulk forms; every method may raise `awsv.errors.VaultError`.

    The bulk forms exist because a vault of 1,000 cached sessions read or
    cleared one item at a time costs one decryption (file) or one agent round
    trip per item: `items` reads everything under a prefix at once,
    `delete_many` removes many names with one durable write.
    """

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

    def items(self, prefix: str = "") -> dict[str, Item]:
        """Every item whose name starts with `prefix`, read at once (one snapshot)."""
        ...

    def delete_many(self, names: Collection[str]) -> builtins.list[str]:
        """Remove every name in `names` at once, durably; the ones that existed, sorted."""
        ...
