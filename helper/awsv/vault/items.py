"""Naming and shape of what the vault stores.

Kept in one place so that backends stay ignorant of what an item means, and so
that the session cache (next layer up) and the key commands agree on names.
"""

from __future__ import annotations

from dataclasses import dataclass

from awsv.errors import VaultCorrupted
from awsv.vault.base import Item

KEY_PREFIX = "key/"
SESSION_PREFIX = "session/"


def key_item_name(profile: str) -> str:
    """Vault name of the long-term key stored for `profile`."""
    return KEY_PREFIX + profile


def session_item_name(cache_id: str) -> str:
    """Vault name of a cached session."""
    return SESSION_PREFIX + cache_id


def profile_of_key_item(name: str) -> str | None:
    """The profile a `key/…` item belongs to, or None for other items."""
    return name[len(KEY_PREFIX) :] if name.startswith(KEY_PREFIX) else None


@dataclass(frozen=True)
class LongTermKey:
    """An IAM user's access key pair. `repr` never shows the secret."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:
        return f"LongTermKey(access_key_id={self.access_key_id!r}, secret_access_key=<hidden>)"

    def to_item(self) -> Item:
        return {
            "type": "long-term-key",
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
        }

    @classmethod
    def from_item(cls, item: Item) -> LongTermKey:
        try:
            return cls(str(item["access_key_id"]), str(item["secret_access_key"]))
        except (KeyError, TypeError) as exc:
            raise VaultCorrupted("a stored key is malformed") from exc
