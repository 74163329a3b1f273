"""Which `keyring` backend awsv would use, and whether it is fit to hold secrets.

`keyring` quietly falls back to backends that are not safe for secrets: a
plaintext file (keyrings.alt), the "null" backend that stores nothing, or the
"fail" backend that raises on every call. `detect_backend` + `check_backend`
refuse those with a hint naming the fix, rather than let a long-term key land
in a plaintext file; `translate_error` turns keyring's and D-Bus's failures
into awsv's errors. The store itself (items, index, lock) is
`awsv.vault.keyring_store`. `keyring` is imported only inside these functions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from awsv.errors import BackendUnavailable, VaultError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

FIX_HINT = "install and unlock a Secret Service (gnome-keyring, KeePassXC) or use --backend file"
LOCKED_HINT = (
    "unlock the keyring (log in to the desktop session, or run "
    "`gnome-keyring-daemon --unlock`) and retry, or use --backend file"
)

_T = TypeVar("_T")

#: Tries per keyring call when the D-Bus handshake times out (see `retrying`).
_CONNECT_ATTEMPTS = 3


def backend_label(backend: object) -> str:
    """`module.Class` of a keyring backend, as users and keyring's docs name it."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def retrying(fn: Callable[..., _T], *args: Any) -> _T:
    """Call `fn`, retrying when a new D-Bus connection fails to authenticate in time.

    keyring's Secret Service backend opens a fresh D-Bus connection per call,
    and jeepney gives the bus one second to authenticate it; on a loaded
    machine that can lapse. It times out before any request is sent, so a
    retry cannot repeat a write.
    """
    for attempt in range(1, _CONNECT_ATTEMPTS + 1):
        try:
            return fn(*args)
        except TimeoutError:
            if attempt == _CONNECT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's text, so errors stay one line."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    """Why a backend call failed, in one line; socket errors say what they are."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"connection failed: {exc.strerror}"
    return _one_line(exc)


def _is_plaintext(backend: object) -> bool:
    """True for keyrings.alt's plaintext file backends and anything named like them."""
    return any(
        "plaintext" in cls.__name__.lower() or "plaintext" in cls.__module__.lower() for cls in type(backend).__mro__
    )


def _priority(backend: KeyringBackend) -> float:
    """The backend's priority; keyring signals "not viable here" by raising from it."""
    try:
        return float(retrying(lambda: backend.priority))
    except Exception as exc:
        raise BackendUnavailable(
            f"the keyring backend {backend_label(backend)} cannot be used here: {_reason(exc)}",
            hint=FIX_HINT,
        ) from exc


def check_backend(backend: KeyringBackend) -> None:
    """Raise `BackendUnavailable` unless `backend` is fit to hold secrets.

    Refused: keyring's fail and null backends, plaintext backends, a chainer
    with no usable member or with a plaintext member (writes may land there),
    and anything keyring itself rates at priority <= 0 or cannot initialise.
    """
    from keyring.backends import chainer, fail, null

    label = backend_label(backend)
    if isinstance(backend, fail.Keyring):
        raise BackendUnavailable(f"no usable keyring backend was found here ({label})", hint=FIX_HINT)
    if isinstance(backend, null.Keyring):
        raise BackendUnavailable(f"the keyring backend here is {label}, which stores nothing", hint=FIX_HINT)
    if _is_plaintext(backend):
        raise BackendUnavailable(
            f"the keyring backend here is {label}, which stores secrets in plaintext",
            hint=FIX_HINT,
        )
    if isinstance(backend, chainer.ChainerBackend):
        _check_chain(backend, label)
        return
    priority = _priority(backend)
    if priority <= 0:
        raise BackendUnavailable(
            f"the keyring backend here is {label}, which keyring rates unusable (priority {priority:g})",
            hint=FIX_HINT,
        )


def _check_chain(backend: Any, label: str) -> None:
    """A chain is safe only if it has members and every member is safe."""
    try:
        members = list(backend.backends)
    except Exception as exc:
        raise BackendUnavailable(
            f"the keyring chain {label} cannot be built here: {_one_line(exc)}", hint=FIX_HINT
        ) from exc
    if not members:
        raise BackendUnavailable(
            f"no usable keyring backend was found here (the chain {label} is empty)", hint=FIX_HINT
        )
    for member in members:
        if _is_plaintext(member):
            raise BackendUnavailable(
                f"the keyring chain here includes {backend_label(member)}, which stores secrets in plaintext",
                hint=FIX_HINT,
            )
        check_backend(member)


def detect_backend() -> KeyringBackend:
    """The backend `keyring` would use here (PYTHON_KEYRING_BACKEND, keyringrc.cfg, else the best).

    Not yet checked for safety: pass it to `check_backend`.
    """
    try:
        import keyring
    except ImportError as exc:
        raise BackendUnavailable(
            "the keyring backend needs the Python package 'keyring', which is not installed",
            hint="pip install keyring SecretStorage, or use --backend file",
        ) from exc
    try:
        return retrying(keyring.get_keyring)
    except Exception as exc:
        named = os.environ.get("PYTHON_KEYRING_BACKEND")
        which = f"{named} (from PYTHON_KEYRING_BACKEND)" if named else "configured for keyring"
        raise BackendUnavailable(
            f"the keyring backend {which} cannot be used here: {_reason(exc)}", hint=FIX_HINT
        ) from exc


def _classes(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """Exception classes from an optional module, only if something already imported it."""
    mod = sys.modules.get(module)
    return tuple(getattr(mod, n) for n in names if mod is not None and hasattr(mod, n))


def translate_error(exc: Exception, action: str) -> VaultError:
    """Turn an exception from a keyring backend into one clear awsv error.

    Messages carry the backend's reason only for errors known to describe the
    connection or lock state (D-Bus, Secret Service, keyring), never the value
    being stored.
    """
    locked = _classes("keyring.errors", "KeyringLocked") + _classes(
        "secretstorage.exceptions", "LockedException", "PromptDismissedException"
    )
    unreachable = (*_classes("secretstorage.exceptions", "SecretServiceNotAvailableException"), OSError)
    dbus_error = _classes("jeepney.wrappers", "DBusErrorResponse")
    init_error = _classes("keyring.errors", "InitError")
    keyring_error = _classes("keyring.errors", "KeyringError") + _classes(
        "secretstorage.exceptions", "SecretStorageException"
    )
    reason = _reason(exc)
    if isinstance(exc, locked) or "prompt dismissed" in reason.lower():
        return BackendUnavailable(f"the keyring is locked and could not be unlocked ({reason})", hint=LOCKED_HINT)
    if isinstance(exc, (unreachable, dbus_error)):
        return BackendUnavailable(f"cannot reach the keyring service: {reason}", hint=FIX_HINT)
    if isinstance(exc, init_error):
        return BackendUnavailable(f"the keyring could not be opened: {reason}", hint=FIX_HINT)
    if isinstance(exc, keyring_error):
        return VaultError(f"the keyring failed to {action}: {reason}")
    return VaultError(
        f"the keyring backend failed to {action} ({type(exc).__name__})",
        hint="run with AWSV_DEBUG=1 for details",
    )
