"""The file vault: one encrypted file per user, written atomically under a lock.

The bytes are defined in `awsv.vault.file_format` (spec: docs/vault-format.md);
this module adds the filesystem: private directory and file modes checked on
every open, an exclusive `flock` across read-modify-write, and
write-temp/fsync/rename/fsync-dir so a crash leaves the old or the new vault.

The passphrase comes from an injected `passphrase_provider(creating)`, asked
at most once per instance and only when a key is really needed; reading a
vault that does not exist asks nothing and creates nothing. The agent can skip
the passphrase entirely by passing a `VaultKey` it already holds
(`FileVault(path, key=key)`), obtained once from `FileVault.unlock()`.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from awsv import paths
from awsv.errors import (
    AwsvError,
    PassphraseUnavailable,
    UsageError,
    VaultCorrupted,
    VaultError,
    WrongPassphrase,
)
from awsv.locking import exclusive_lock
from awsv.vault import file_format as fmt
from awsv.vault.base import Item

VAULT_FILE = "vault.awsv"
LOCK_FILE = "vault.lock"
_TMP_PREFIX = f".{VAULT_FILE}.tmp-"

PassphraseProvider = Callable[[bool], str]


class FileVault:
    """The `Vault` protocol over one encrypted file (see module docstring)."""

    backend_name = "file"

    def __init__(
        self,
        path: Path | str,
        *,
        passphrase_provider: PassphraseProvider | None = None,
        key: fmt.VaultKey | None = None,
        kdf_params: fmt.KdfParams = fmt.DEFAULT_PARAMS,
        lock_timeout: float = 30.0,
    ) -> None:
        """`path` is the vault file; its directory must be private to this user.

        `kdf_params` only matter when this instance creates the vault; an
        existing vault keeps the parameters in its header.
        """
        problem = fmt.params_problem(kdf_params)
        if problem:
            raise VaultError(f"refusing weak vault parameters: {problem}")
        self.path = Path(path)
        self.directory = self.path.parent
        self._provider = passphrase_provider
        self._key = key
        self._kdf_params = kdf_params
        self._lock_timeout = lock_timeout
        self._asked = False
        self._wrong_hint: tuple[str, str] | None = None  # (source, hint) of the passphrase used
        self._unlock_error: VaultError | None = None

    @classmethod
    def at_default_location(
        cls,
        *,
        env: Mapping[str, str] = os.environ,
        passphrase_provider: PassphraseProvider | None = None,
        key: fmt.VaultKey | None = None,
    ) -> FileVault:
        """The user's vault in `awsv.paths.data_dir(env)` (AWSV_FILE_DIR overrides)."""
        return cls(paths.data_dir(env) / VAULT_FILE, passphrase_provider=passphrase_provider, key=key)

    def __repr__(self) -> str:
        return f"FileVault({str(self.path)!r})"

    # -- the Vault protocol -------------------------------------------------

    def exists(self) -> bool:
        """True when the vault file exists (no passphrase needed)."""
        return os.path.lexists(self.path)

    def get(self, name: str) -> Item | None:
        items = self._load()
        return None if items is None else items.get(name)

    def list(self) -> list[str]:
        items = self._load()
        return [] if items is None else sorted(items)

    def items(self, prefix: str = "") -> dict[str, Item]:
        """One decryption, whatever the number of items."""
        items = self._load()
        return {} if items is None else {n: v for n, v in items.items() if n.startswith(prefix)}

    def set(self, name: str, item: Item) -> None:
        if not isinstance(name, str) or not name:
            raise VaultError("vault item names must be non-empty strings")
        if not isinstance(item, dict):
            raise VaultError("vault items must be JSON objects")

        def put(items: dict[str, Item]) -> bool:
            items[name] = item
            return True

        self._modify(put, create=True)

    def delete(self, name: str) -> bool:
        def remove(items: dict[str, Item]) -> bool:
            return items.pop(name, None) is not None

        return self._modify(remove, create=False)

    def delete_many(self, names: Collection[str]) -> builtins.list[str]:
        """One read-modify-write under the lock: one atomic write however many names."""
        wanted = set(names)
        gone: list[str] = []

        def remove(items: dict[str, Item]) -> bool:
            gone.clear()  # fresh on each call: the list is what this write removed
            gone.extend(n for n in sorted(wanted) if items.pop(n, None) is not None)
            return bool(gone)

        if not wanted:
            return []
        return sorted(gone) if self._modify(remove, create=False) else []

    # -- keys ---------------------------------------------------------------

    def unlock(self) -> fmt.VaultKey:
        """Derive and verify the key now and return it (for the agent to keep).

        Creates an empty vault when there is none, because the key is bound to
        the salt stored in the vault: a key for an unsaved salt would be useless.
        """
        if self.exists():
            self._load()
        else:
            self._modify(lambda items: True, create=True)
        assert self._key is not None  # noqa: S101 - narrows the type; set by _load/_modify or they raised
        return self._key

    # -- internals ----------------------------------------------------------

    def _ask_passphrase(self, creating: bool) -> str:
        """Call the provider at most once per instance; re-raise its earlier failure."""
        if self._unlock_error is not None:
            raise self._unlock_error
        if self._asked or self._provider is None:
            raise PassphraseUnavailable(
                f"no passphrase available to open the vault {self.path}",
                hint="run `awsv unlock`, or set AWSV_PASSPHRASE_COMMAND",
            )
        self._asked = True
        passphrase = self._provider(creating)
        source, hint = getattr(passphrase, "source", None), getattr(passphrase, "wrong_hint", None)
        if isinstance(source, str) and isinstance(hint, str):
            self._wrong_hint = (source, hint)
        try:
            if not isinstance(passphrase, str):
                raise PassphraseUnavailable("the passphrase source returned nothing")
            fmt.encode_passphrase(passphrase)  # refuse an empty one before anything is created
        except VaultError as exc:
            self._unlock_error = self._located(exc)
            raise self._unlock_error from None
        return passphrase

    def _key_for(self, data: bytes | None, passphrase: str | None) -> fmt.VaultKey:
        """The key for the file `data` (None: a new vault), derived at most once."""
        if self._key is not None:
            return self._key
        try:
            if passphrase is None:
                passphrase = self._ask_passphrase(creating=data is None)
            if data is None:
                key = fmt.new_key(passphrase, self._kdf_params)
            else:
                header = fmt.parse_header(data)
                key = fmt.derive_key(passphrase, header.salt, header.params)
                fmt.verify_key(header, key)
        except VaultError as exc:
            exc = self._located(exc)
            if self._asked:
                self._unlock_error = exc
            raise exc from None
        self._key = key
        return key

    def _load(self) -> dict[str, Item] | None:
        """All items, or None (without asking anything) when no vault exists."""
        data = self._read()
        if data is None:
            return None
        return self._decrypt(data, None)

    def _decrypt(self, data: bytes, passphrase: str | None) -> dict[str, Item]:
        try:
            fmt.parse_header(data)  # structural errors first, before asking anything
            return fmt.decrypt(data, self._key_for(data, passphrase))
        except VaultError as exc:
            raise self._located(exc) from None

    def _modify(self, change: Callable[[dict[str, Item]], bool], *, create: bool) -> bool:
        """Read-modify-write under the lock; `change` says whether it changed anything.

        The passphrase is asked before the lock is taken, so a user slow to
        type it does not hold up other awsv processes. Nothing is written when
        the key is wrong or the vault is damaged.
        """
        existing = self._read()
        if existing is None and not create:
            return False
        passphrase: str | None = None
        if self._key is None:
            if existing is not None:
                self._decrypt(existing, None)  # asks, derives and verifies, outside the lock
            else:
                passphrase = self._ask_passphrase(creating=True)
        self._make_directory()
        with self._locked():
            data = self._read()  # again: another process may have written meanwhile
            if data is None:
                if not create:
                    return False
                items: dict[str, Item] = {}
                key = self._key_for(None, passphrase)
            else:
                items = self._decrypt(data, passphrase)
                key = self._key_for(data, passphrase)
            if not change(items):
                return False
            self._write(fmt.encrypt(items, key))
        return True

    def _located(self, exc: VaultError) -> VaultError:
        """The same error, naming the vault file and saying what to do."""
        if str(self.path) in exc.message:
            return exc
        if isinstance(exc, WrongPassphrase):
            if self._wrong_hint is not None:
                source, hint = self._wrong_hint
                return WrongPassphrase(f"wrong passphrase (from {source}) for the vault {self.path}", hint=hint)
            return WrongPassphrase(
                f"wrong passphrase for the vault {self.path}",
                hint="try again; a damaged salt or header also shows up this way",
            )
        if isinstance(exc, VaultCorrupted):
            return VaultCorrupted(
                f"the vault {self.path} failed its integrity check: {exc.message}",
                hint="restore it from a backup; awsv will not overwrite it",
            )
        return type(exc)(f"{exc.message} ({self.path})", hint=exc.hint)

    # -- filesystem ---------------------------------------------------------

    def _check_private(self, where: Path, st: os.stat_result, *, is_dir: bool) -> None:
        """Refuse anything another user could read, write or own."""
        from awsv.private import KIND, OWNER, not_private

        problem = not_private(st, is_dir=is_dir)
        if problem is None:
            return
        kind, what = problem
        hint = {
            KIND: None,
            OWNER: f"chown {os.geteuid()} {where}, or point AWSV_FILE_DIR at a directory of your own",
        }.get(kind, f"chmod {'700' if is_dir else '600'} {where}")
        raise VaultError(f"the vault {'directory' if is_dir else 'file'} {where} {what}", hint=hint)

    def _read(self) -> bytes | None:
        """The vault file's bytes after the ownership/mode checks, or None if absent."""
        try:
            self._check_private(self.directory, os.stat(self.directory), is_dir=True)
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise VaultError(f"the vault file {self.path} is a symbolic link; refusing it") from None
            raise VaultError(f"cannot read the vault {self.path}: {exc.strerror}") from None
        with open(fd, "rb") as f:
            self._check_private(self.path, os.fstat(f.fileno()), is_dir=False)
            try:
                return f.read()
            except OSError as exc:
                raise VaultError(f"cannot read the vault {self.path}: {exc.strerror}") from None

    def _make_directory(self) -> None:
        """Create the vault directory 0700 if needed, then check it is private."""
        try:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.mkdir(self.directory, 0o700)
                os.chmod(self.directory, 0o700)  # in case the umask removed owner bits
            except FileExistsError:
                pass
            self._check_private(self.directory, os.stat(self.directory), is_dir=True)
        except OSError as exc:
            raise VaultError(f"cannot create the vault directory {self.directory}: {exc.strerror}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive flock on the lock file (never on the vault, which is replaced)."""
        lock_path = self.directory / LOCK_FILE
        with exclusive_lock(
            lock_path,
            self._lock_timeout,
            timed_out=lambda _seconds: VaultError(
                f"the vault {self.path} is locked by another awsv process",
                hint=f"wait for it to finish; the lock is {lock_path}",
            ),
            cannot_lock=lambda exc: VaultError(f"cannot open the lock file {lock_path}: {exc.strerror}"),
        ):
            yield

    def _write(self, blob: bytes) -> None:
        """Replace the vault atomically: temp file 0600, fsync, rename, fsync directory.

        Called with the lock held, so any temp file already present was left by
        a writer that crashed; those are removed first.
        """
        self._remove_stale_temps()
        tmp = self.directory / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                view = memoryview(blob)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise VaultError(f"cannot write the vault {self.path}: {exc.strerror}") from None
        self._fsync_directory()

    def _fsync_directory(self) -> None:
        try:
            dfd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise VaultError(f"cannot sync the vault directory {self.directory}: {exc.strerror}") from None
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _remove_stale_temps(self) -> None:
        for entry in os.scandir(self.directory):
            if entry.name.startswith(_TMP_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


# -- the backend registry's functions (awsv.vault.BackendModule) ---------------


def open_backend(env: Mapping[str, str], passphrase_provider: PassphraseProvider | None) -> FileVault:
    if passphrase_provider is None:
        raise UsageError("the file backend needs a passphrase source")
    return FileVault.at_default_location(env=env, passphrase_provider=passphrase_provider)


def describe(env: Mapping[str, str]) -> str:
    return str(FileVault.at_default_location(env=env).path)


def doctor_checks(env: Mapping[str, str]) -> Iterator[tuple[str, str, str | None]]:
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: F401 - present is the check
    except ImportError:
        yield "fail", "the file backend needs cryptography ≥ 44 with Argon2id", "reinstall awsv with ./install.sh"
        return
    yield "pass", "file backend (Argon2id + AES-256-GCM) is usable", None


def agent_setup(env: Mapping[str, str]) -> dict[str, Any]:
    return {"vault_path": str(FileVault.at_default_location(env=env).path)}


def open_in_agent(setup: Mapping[str, Any], key: bytes | None) -> FileVault:
    """The vault opened with the handed-over key; decrypts once to prove the key opens it."""
    if key is None:
        raise AwsvError("the agent was started without the vault key")
    vault = FileVault(setup["vault_path"], key=fmt.VaultKey.from_bytes(key), lock_timeout=10.0)
    vault.list()
    return vault


def agent_key(env: Mapping[str, str], passphrase_provider: PassphraseProvider) -> bytes | None:
    vault = FileVault.at_default_location(env=env, passphrase_provider=passphrase_provider)
    return vault.unlock().to_bytes()
