"""Temporary credentials for a profile: the STS plan, the session cache, the refresh.

Three ideas, one module each, layered in this order:

- `plan`: which STS steps a resolved profile needs and the cache id of each
  (pure; the README's rules for GetSessionToken, durations and MFA live there);
- `cache`: the steps' results as vault items, read back strictly, listed and
  cleared in bulk;
- `refresh`: `get_credentials`, which walks the plan, reuses the cache and
  calls STS for the rest under a single-flight lock.

The names callers use are re-exported here, so `from awsv.sessions import
get_credentials` is the one spelling outside this package.
"""

from awsv.sessions.cache import CachedSession, CacheMiss, cached_sessions, clear_sessions
from awsv.sessions.plan import SessionOptions
from awsv.sessions.refresh import LOCK_TIMEOUT, ProfileCredentials, StsFactory, get_credentials

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
