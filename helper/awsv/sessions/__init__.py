"""Temporary credentials for a profile: the STS plan, the session cache, the refresh.

Three ideas, one module each, layered in this order:

- `plan`: which STS steps a resolved profile needs and the cache id of each
  (pure; the README's rules for GetSessionToken, durations and MFA live there);
- `cache`: the steps' results as vault items, read back strictly, listed and
  cleared in bulk;
- `refresh`: `get_credentials`, which walks the plan, reuses the cache and
  calls STS for the rest under a single-flight lock.

The names callers use are re-exported here, so `from awsv.sessions import
get_credentials` is the one spelling outside this package. They are loaded on
first use: `awsv list` and `clear` need only the cache, and importing the
refresh side (STS, credential_process, MFA, locking) would add ~10 ms to them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from awsv.sessions.cache import CachedSession, CacheMiss, cached_sessions, clear_sessions
    from awsv.sessions.plan import SessionOptions
    from awsv.sessions.refresh import LOCK_TIMEOUT, ProfileCredentials, StsFactory, get_credentials

#: Name -> the module of this package that defines it.
_HOME = {
    "CacheMiss": "cache",
    "CachedSession": "cache",
    "cached_sessions": "cache",
    "clear_sessions": "cache",
    "SessionOptions": "plan",
    "LOCK_TIMEOUT": "refresh",
    "ProfileCredentials": "refresh",
    "StsFactory": "refresh",
    "get_credentials": "refresh",
}

__all__ = [
    "LOCK_TIMEOUT",
    "CacheMiss",
    "CachedSession",
    "ProfileCredentials",
    "SessionOptions",
    "StsFactory",
    "cached_sessions",
    "clear_sessions",
    "get_credentials",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value
