"""The keyring backend: vault items in the OS keyring, through `keyring`.

Each item is one keyring entry: service "awsv" (or `AWSV_KEYRING_SERVICE`, to
keep separate vaults apart), username = the item name, password = the item as
compact JSON. The keyring encrypts it at rest (Secret Service, macOS Keychain,
Windows Credential Locker); awsv adds no crypto of its own here. Unlike the
file vault, item *names* are visible to anyone who can browse the unlocked
keyring.

`keyring` quietly falls back to backends that are not safe for secrets: a
plaintext file (keyrings.alt), the "null" backend that stores nothing, or the
"fail" backend that raises on every call. We refuse those at open time with a
hint naming the fix, rather than let a long-term key land in a plaintext file.

`keyring` has no portable way to list entries, so we keep an index entry
(`INDEX_NAME`, a JSON list of names) next to the items. Updates to it are
serialised across awsv processes by an `flock` on a file in awsv's data
directory; otherwise two concurrent `set`s would each rewrite the index from
the same old copy and one name would be lost.

`keyring` (and its D-Bus stack) costs 60-120 ms to import, so it is imported
only here, only when this backend is opened. Backend choice and the D-Bus
address come from the process environment (`os.environ`), because `keyring`
and `secretstorage` read it directly; the injected `env` governs awsv's own
settings (service name, lock directory).
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from awsv import paths
from awsv.errors import AwsvError, VaultCorrupted, VaultError
from awsv.locking import exclusive_lock
from awsv.vault.base import Item
from awsv.vault.keyring_backend import (
    backend_label,
    check_backend,
    detect_backend,
    retrying,
    translate_error,
)

_T = TypeVar("_T")

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

DEFAULT_SERVICE = "awsv"
SERVICE_ENV = "AWSV_KEYRING_SERVICE"
#: The keyring username of the index entry; refused as an item name.
INDEX_NAME = "__awsv_index__"
LOCK_FILE = "keyring-index.lock"


def service_name(env: Mapping[str, str] = os.environ) -> str:
    """The keyring service awsv's entries live under."""
    return env.get(SERVICE_ENV) or DEFAULT_SERVICE


def _check_name(name: str) -> None:
    """Item names are opaque, but must be usable as a keyring username."""
    if not isinstance(name, str) or not name or not name.isprintable():
        raise VaultError("invalid vault item name (empty or with control characters)")
    if name == INDEX_NAME:
        raise VaultError(f"{INDEX_NAME} is reserved for awsv's index of keyring items")


class KeyringVault:
    """A `Vault` whose items are entries in the OS keyring."""

    backend_name = "keyring"

    def __init__(
        self,
        backend: KeyringBackend,
        *,
        service: str,
        lock_path: Path,
        lock_timeout: float = 60.0,
    ) -> None:
        """Use `backend` as is; callers normally go through `open`, which checks it."""
        self.keyring_backend = backend
        self.service = service
        self.lock_path = lock_path
        self.lock_timeout = lock_timeout

    @classmethod
    def open(
        cls,
        *,
        env: Mapping[str, str] = os.environ,
        backend: KeyringBackend | None = None,
    ) -> KeyringVault:
        """Open the vault on `backend` (default: what `keyring` picks here).

        Raises `BackendUnavailable` when that backend is unsafe or unusable.
        Does no keyring I/O beyond keyring's own availability probe.
        """
        chosen = backend if backend is not None else detect_backend()
        check_backend(chosen)
        return cls(chosen, service=service_name(env), lock_path=paths.data_dir(env) / LOCK_FILE)

    @property
    def keyring_label(self) -> str:
        """`module.Class` of the keyring backend in use, for `doctor` and messages."""
        return backend_label(self.keyring_backend)

    # -- the Vault protocol -------------------------------------------------

    def get(self, name: str) -> Item | None:
        """The item stored under `name`, or None."""
        _check_name(name)
        raw = self._call("read an item", self.keyring_backend.get_password, self.service, name)
        if raw is None:
            return None
        try:
            item = json.loads(raw)
        except ValueError as exc:
            raise VaultCorrupted(f"the keyring entry {name!r} is not awsv data") from exc
        if not isinstance(item, dict):
            raise VaultCorrupted(f"the keyring entry {name!r} is not awsv data")
        return item

    def set(self, name: str, item: Item) -> None:
        """Store `item` under `name`; the item is written before the index names it."""
        _check_name(name)
        payload = json.dumps(item, separators=(",", ":"))
        with self._index_lock():
            self._call("store an item", self.keyring_backend.set_password, self.service, name, payload)
            names = self._read_index()
            if name not in names:
                names.add(name)
                self._write_index(names)

    def delete(self, name: str) -> bool:
        """Remove `name`; True if it existed. The index forgets it only after the item is gone."""
        _check_name(name)
        with self._index_lock():
            existed = self._call("read an item", self.keyring_backend.get_password, self.service, name) is not None
            if existed:
                self._delete_entry(name)
            names = self._read_index()
            if name in names:
                names.discard(name)
                self._write_index(names)
        return existed

    def items(self, prefix: str = "") -> dict[str, Item]:
        """Every item under `prefix`: one index read, then one keyring read per item.

        The keyring has no bulk read; names the index lists but the keyring
        lost are skipped, as in `list`.
        """
        found: dict[str, Item] = {}
        for name in sorted(self._read_index()):
            if name.startswith(prefix):
                item = self.get(name)
                if item is not None:
                    found[name] = item
        return found

    def delete_many(self, names: Collection[str]) -> list[str]:
        """Remove `names` under one index lock, rewriting the index once (after the entries)."""
        wanted = sorted(set(names))
        for name in wanted:
            _check_name(name)
        if not wanted:
            return []
        gone: list[str] = []
        with self._index_lock():
            for name in wanted:
                if self._call("read an item", self.keyring_backend.get_password, self.service, name) is not None:
                    self._delete_entry(name)
                    gone.append(name)
            index = self._read_index()
            if index & set(wanted):
                self._write_index(index - set(wanted))
        return gone

    def list(self) -> list[str]:
        """All item names, sorted; names the index lists but the keyring lost are skipped.

        An item whose writer crashed between the item and the index write is
        missing until it is set again.
        """
        names = self._read_index()
        return sorted(
            n
            for n in names
            if self._call("read an item", self.keyring_backend.get_password, self.service, n) is not None
        )

    # -- internals ----------------------------------------------------------

    def _call(self, action: str, fn: Callable[..., _T], *args: Any) -> _T:
        """Call into the keyring backend, translating its failures into awsv errors."""
        try:
            return retrying(fn, *args)
        except AwsvError:
            raise
        except Exception as exc:
            raise translate_error(exc, action) from exc

    def _delete_entry(self, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            retrying(self.keyring_backend.delete_password, self.service, name)
        except PasswordDeleteError:
            pass  # already gone: deleted by someone outside awsv since we looked
        except Exception as exc:
            raise translate_error(exc, "delete an item") from exc

    def _read_index(self) -> builtins.set[str]:
        raw = self._call("read the index", self.keyring_backend.get_password, self.service, INDEX_NAME)
        if raw is None:
            return set()
        try:
            names = json.loads(raw)
        except ValueError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise VaultCorrupted(
                f"awsv's index in the keyring (service {self.service!r}) is malformed",
                hint=f"remove it with `keyring del {self.service} {INDEX_NAME}`, then set your keys again",
            )
        return set(names)

    def _write_index(self, names: builtins.set[str]) -> None:
        payload = json.dumps(sorted(names), separators=(",", ":"))
        self._call("update the index", self.keyring_backend.set_password, self.service, INDEX_NAME, payload)

    @contextmanager
    def _index_lock(self) -> Iterator[None]:
        """Hold an exclusive flock on the index's lock file (its directory made 0700)."""
        with exclusive_lock(
            self.lock_path,
            self.lock_timeout,
            private_dir=True,
            timed_out=lambda _seconds: VaultError(
                "timed out waiting for another awsv process to update the keyring",
                hint=f"retry; if no awsv is running, check what holds {self.lock_path}",
            ),
            cannot_lock=lambda exc: VaultError(f"cannot lock {self.lock_path}: {exc.strerror or exc}"),
        ):
            yield


# -- the backend registry's functions (awsv.vault.BackendModule) ---------------


def open_backend(env: Mapping[str, str], passphrase_provider: Callable[[bool], str] | None) -> KeyringVault:
    return KeyringVault.open(env=env)


def describe(env: Mapping[str, str]) -> str:
    return f"keyring service {service_name(env)!r}"


def doctor_checks(env: Mapping[str, str]) -> Iterator[tuple[str, str, str | None]]:
    try:
        found = detect_backend()
        check_backend(found)
    except AwsvError as exc:
        yield "fail", exc.message, exc.hint
        return
    yield "pass", f"keyring backend {backend_label(found)} is usable", None


def agent_setup(env: Mapping[str, str]) -> dict[str, Any]:
    return {}


def open_in_agent(setup: Mapping[str, Any], key: bytes | None) -> KeyringVault:
    """The keyring as the agent sees it; reached once, so it fails now rather than on first use."""
    vault = KeyringVault.open(env=os.environ)
    vault.list()
    return vault


def agent_key(env: Mapping[str, str], passphrase_provider: Callable[[bool], str]) -> bytes | None:
    open_backend(env, None).list()  # the backend's own error if it cannot work here
    return None
